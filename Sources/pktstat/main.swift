import PktstatCLI

await PktstatMain.run()
