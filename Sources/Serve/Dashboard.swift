/// The dashboard at `/`: one self-contained page (no external scripts, fonts or images; the icon is
/// an inline SVG, so browsers do not ask for `/favicon.ico`), drawn
/// from `/api/v1/series` and then the stream; the talkers table from `/api/v1/flows` every 2 s.
/// Numbers carry ids (`total-packets`, `bps`, `drops-*`, `talkers`)
/// so a browser test can read them.
enum Dashboard {
    static let html = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>pktstat serve</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='%231f77b4' d='M1 15V9h3v6zm5 0V4h3v11zm5 0V1h3v14z'/%3E%3C/svg%3E">
        <style>
        body{font:14px system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
        h1{font-size:18px;margin:0 0 8px} h2{font-size:15px;margin:16px 0 4px}
        .cards{display:flex;gap:12px;flex-wrap:wrap}
        .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}
        .card b{display:block;font-size:20px}
        canvas{background:#fff;border:1px solid #ddd;border-radius:6px;width:100%;height:220px}
        #legend span{margin-right:12px} #state{color:#666}
        table{border-collapse:collapse;background:#fff;border:1px solid #ddd} td,th{padding:3px 10px;text-align:right}
        th{background:#f0f0f0} td:first-child,th:first-child{text-align:left}
        </style></head><body>
        <h1>pktstat serve <span id="state">connecting…</span></h1>
        <div class="cards">
        <div class="card">packets<b id="total-packets">0</b></div>
        <div class="card">bytes<b id="total-bytes">0</b></div>
        <div class="card">bits/s (last interval)<b id="bps">0</b></div>
        <div class="card">mean size (last)<b id="mean-size">-</b></div>
        <div class="card">dropped: kernel<b id="drops-kernel">0</b></div>
        <div class="card">interface<b id="drops-interface">0</b></div>
        <div class="card">ring<b id="drops-ring">0</b></div>
        </div>
        <h2>Bits per second by protocol</h2><canvas id="bps-chart" width="1000" height="220"></canvas>
        <h2>Mean packet size by protocol (bytes)</h2><canvas id="size-chart" width="1000" height="220"></canvas>
        <div id="legend"></div>
        <h2>Top talkers (hosts, by bytes, since they were first seen)</h2>
        <table><thead><tr><th>host</th><th>flows</th><th>packets</th><th>bytes</th><th>sent</th><th>received</th>
        </tr></thead>
        <tbody id="talkers"></tbody></table>
        <h2>Top processes (local sockets, by bytes)</h2>
        <table><thead><tr><th>pid</th><th>process</th><th>unit</th><th>flows</th><th>bytes</th><th>sent</th>
        <th>received</th></tr></thead>
        <tbody id="processes"></tbody></table>
        <script>
        "use strict";
        const keep = 300, rows = [];
        const colors = {TCP:"#1f77b4",UDP:"#ff7f0e",ICMP:"#2ca02c",ICMPv6:"#98df8a",ARP:"#d62728",IPv4:"#9467bd",
          IPv6:"#8c564b",other:"#7f7f7f"};
        const color = p => colors[p] || "#17becf";
        const fmt = n => n >= 1e9 ? (n/1e9).toFixed(2)+" G" : n >= 1e6 ? (n/1e6).toFixed(2)+" M" :
          n >= 1e3 ? (n/1e3).toFixed(1)+" k" : String(Math.round(n));
        let totals = {packets: 0, bytes: 0}, drops = {kernel: 0, interface: 0, ring: 0};
        function add(iv) {
          rows.push(iv); if (rows.length > keep) rows.shift();
          totals.packets += iv.packets; totals.bytes += iv.bytes;
          for (const k in drops) drops[k] += iv.drops[k];
          show(iv);
        }
        function show(last) {
          document.getElementById("total-packets").textContent = totals.packets;
          document.getElementById("total-bytes").textContent = fmt(totals.bytes);
          document.getElementById("bps").textContent = last ? fmt(last.bits_per_second) : "0";
          document.getElementById("mean-size").textContent =
            last && last.mean_length ? Math.round(last.mean_length) : "-";
          for (const k in drops) document.getElementById("drops-" + k).textContent = drops[k];
          draw("bps-chart", iv => p => iv.protocols[p] ? iv.protocols[p].bytes * 8 / iv.interval_seconds : 0);
          draw("size-chart", iv => p => iv.protocols[p] ? iv.protocols[p].bytes / iv.protocols[p].packets : null);
        }
        function draw(id, value) {
          const c = document.getElementById(id), g = c.getContext("2d"), w = c.width, h = c.height;
          g.clearRect(0, 0, w, h);
          const protos = [...new Set(rows.flatMap(r => Object.keys(r.protocols)))].sort();
          let max = 1;
          for (const r of rows) for (const p of protos) { const v = value(r)(p); if (v > max) max = v; }
          g.fillStyle = "#666"; g.font = "11px sans-serif"; g.fillText(fmt(max), 4, 12); g.fillText("0", 4, h - 4);
          const x = i => 40 + (w - 50) * i / Math.max(1, keep - 1);
          for (const p of protos) {
            g.strokeStyle = color(p); g.lineWidth = 1.5; g.beginPath(); let on = false;
            rows.forEach((r, i) => { const v = value(r)(p);
              if (v === null) { on = false; return; }
              const y = h - 8 - (h - 20) * v / max; if (on) g.lineTo(x(i), y); else g.moveTo(x(i), y); on = true; });
            g.stroke();
          }
          document.getElementById("legend").innerHTML = protos.map(p =>
            `<span style="color:${color(p)}">&#9632; ${p}</span>`).join("");
        }
        function talkers() {
          fetch("api/v1/flows?view=host&top=10").then(r => r.json()).then(d => {
            document.getElementById("talkers").innerHTML = d.rows.map(h =>
              `<tr><td>${h.host}</td><td>${h.flows}</td><td>${h.packets}</td><td>${fmt(h.bytes)}</td>` +
              `<td>${fmt(h.sent_bytes)}</td><td>${fmt(h.received_bytes)}</td></tr>`).join("");
          }).catch(() => {});
          fetch("api/v1/processes?top=10").then(r => r.json()).then(d => {
            const esc = t => t === null ? "-" : String(t).replace(/[&<>"]/g, c => "&#" + c.charCodeAt(0) + ";");
            document.getElementById("processes").innerHTML = d.rows.map(p =>
              `<tr><td>${esc(p.pid)}</td><td>${esc(p.process)}</td><td>${esc(p.unit)}</td><td>${p.flows}</td>` +
              `<td>${fmt(p.bytes)}</td><td>${fmt(p.sent_bytes)}</td><td>${fmt(p.received_bytes)}</td></tr>`).join("");
          }).catch(() => {});
        }
        talkers(); setInterval(talkers, 2000);
        fetch("api/v1/series").then(r => r.json()).then(d => { d.intervals.forEach(add); show(rows[rows.length - 1]); })
          .finally(() => {
            const es = new EventSource("api/v1/series/stream");
            es.addEventListener("interval", e => add(JSON.parse(e.data)));
            es.onopen = () => document.getElementById("state").textContent = "live";
            es.onerror = () => document.getElementById("state").textContent = "reconnecting…";
          });
        </script></body></html>
        """#
}
