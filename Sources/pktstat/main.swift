import PktstatCLI

PktstatMain.run()
