import PktstatCLI

Pktstat.main()
