import Foundation
import TestSupport
import Testing

/// The dashboard in a real browser: Debian's headless Chromium driven by Selenium loads `/`, sees
/// the packet count change while the test sends traffic, and takes a screenshot
/// (`PKTSTAT_SCREENSHOT=plots/serve-dashboard.png` keeps it for the README); any console error
/// (a failed request, a 404, a script error) fails it.
@Suite(.enabled(if: TestPaths.isRoot, "live capture needs root"))
struct DashboardBrowserTests {
    static let script = #"""
        import os, socket, sys, time, threading
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        url, port, shot = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        opts = webdriver.ChromeOptions()
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1000"]:
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            driver.set_page_load_timeout(15)
            driver.get(url)
            def text(i): return driver.find_element("id", i).text
            deadline = time.time() + 10
            while text("state") != "live" and time.time() < deadline: time.sleep(0.05)
            before = int(text("total-packets"))
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sent = 0
            deadline = time.time() + 15
            while int(text("total-packets")) < before + 200 and time.time() < deadline:
                for size in (60, 400, 1200):
                    s.sendto(bytes(size), ("127.0.0.1", port)); sent += 1
                time.sleep(0.01)
            after = int(text("total-packets"))
            deadline = time.time() + 5
            while "127.0.0.1" not in text("talkers") and time.time() < deadline: time.sleep(0.1)
            talkers = "127.0.0.1" in text("talkers")
            time.sleep(1.5)
            driver.save_screenshot(shot)
            icon = len(driver.find_elements("css selector", "link[rel=icon][href^='data:image/svg+xml,']"))
            # Every console error (a 404 for /favicon.ico, a script error) is a failure.
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            for e in errors: print("console:", e["message"], file=sys.stderr)
            print(f"state={text('state')} before={before} after={after} sent={sent} talkers={talkers} "
                  f"icon={icon} console_errors={len(errors)}")
        finally:
            driver.quit()
        """#

    @Test func dashboardUpdatesInChromium() throws {
        guard FileManager.default.fileExists(atPath: "/usr/bin/chromedriver") else {
            Issue.record("chromium-driver is missing: scripts/install-deps installs it")
            return
        }
        let port = testPort(30)
        let server = try ServeProcess(["-i", "lo", "--interval", "250ms", "udp", "port", "\(port)"])
        defer { _ = server.stop() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shot = ProcessInfo.processInfo.environment["PKTSTAT_SCREENSHOT"] ?? dir.appendingPathComponent("d.png").path
        let r = try run("/usr/bin/python3", ["-c", Self.script, server.base + "/", "\(port)", shot], timeout: 90)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let pairs = r.stdout.split(separator: " ").compactMap { kv -> (String, String)? in
            let p = kv.split(separator: "=", maxSplits: 1)
            return p.count == 2 ? (String(p[0]), String(p[1]).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
        }
        let fields = Dictionary(pairs) { $1 }
        #expect(fields["state"] == "live")
        #expect(fields["talkers"] == "True", "the talkers table shows 127.0.0.1")
        #expect(fields["icon"] == "1", "an inline icon, so no request for /favicon.ico")
        #expect(fields["console_errors"] == "0", "no console error, no 404: \(r.stderr)")
        let before = Int(fields["before"] ?? "") ?? -1
        let after = Int(fields["after"] ?? "") ?? -1
        #expect(after >= before + 200, "the page's packet count moved with the traffic: \(r.stdout)")
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
    }
}
