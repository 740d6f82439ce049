"""The dashboard's stylesheet, served by the bot itself at a content-hashed path (so it can
be cached for good and the Content-Security-Policy allows only ``style-src 'self'``).

Colours meet WCAG AA contrast on their backgrounds: body text #18212f and muted text
#4f5b6b on white (15.6:1 and 6.9:1); white on the accent #2451c9 (6.6:1).
"""

from __future__ import annotations

import hashlib

CSS = """
:root {
  --ink: #18212f; --muted: #4f5b6b; --line: #e2e6ee; --bg: #f4f6fa; --card: #ffffff;
  --accent: #2451c9; --accent-soft: #e8eefc; --green: #0e7c5f; --amber: #b45309;
  --amber-soft: #fff6ea; --red: #b42318; --focus: #f5b400;
  --s0: #1d3f9e; --s1: #2451c9; --s2: #3f6fe0; --s3: #0e7c5f; --s4: #139a73;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: var(--bg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif;
}
a { color: var(--accent); }
a:focus-visible, button:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: 8px 12px; z-index: 2; }
.skip:focus { left: 8px; top: 8px; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 20px; }

header.top { background: var(--card); border-bottom: 1px solid var(--line); }
header.top .wrap { display: flex; align-items: center; justify-content: space-between; gap: 16px; padding-top: 12px; padding-bottom: 12px; flex-wrap: wrap; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 1.05rem; }
.logo { width: 30px; height: 30px; border-radius: 8px; background: var(--accent); color: #fff; display: inline-grid; place-items: center; font-weight: 800; }
.who { color: var(--muted); font-size: .92rem; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }

main { padding: 24px 0 40px; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 0 0 4px; }
.lede { color: var(--muted); margin: 0 0 14px; max-width: 70ch; }
.intro { display: flex; justify-content: space-between; align-items: flex-end; gap: 16px; flex-wrap: wrap; margin-bottom: 18px; }

.periods { display: inline-flex; background: var(--card); border: 1px solid var(--line); border-radius: 999px; padding: 4px; gap: 2px; flex-wrap: wrap; }
.periods a { text-decoration: none; color: var(--ink); padding: 6px 14px; border-radius: 999px; font-size: .92rem; white-space: nowrap; }
.periods a:hover { background: var(--accent-soft); }
.periods a[aria-current="page"] { background: var(--accent); color: #fff; font-weight: 600; }

.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(175px, 1fr)); gap: 12px; margin: 0 0 22px; padding: 0; list-style: none; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; }
.card .k { color: var(--muted); font-size: .86rem; display: block; }
.card .v { font-size: 1.55rem; font-weight: 700; display: block; line-height: 1.3; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); font-size: .86rem; display: block; }
.cards-foot { margin: -12px 0 22px; font-size: .9rem; }
.split { display: grid; gap: 8px 36px; grid-template-columns: minmax(0, 1fr); align-items: start; }
@media (min-width: 960px) { .split { grid-template-columns: minmax(0, 1.1fr) minmax(0, 1fr); } }
.card.warn .v { color: var(--red); }

.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 540px), 1fr)); gap: 20px; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 14px; padding: 20px 22px; min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
.insight { background: var(--accent-soft); border-radius: 10px; padding: 10px 14px; margin: 0 0 14px; font-size: .95rem; }
.insight.warn { background: var(--amber-soft); }
figure { margin: 0 0 14px; }
.empty { color: var(--muted); font-style: italic; margin: 8px 0 14px; }

svg.chart { width: 100%; display: block; font-size: 14px; overflow: visible; }
svg .track { fill: #eef1f7; }
svg .label { fill: var(--ink); }
svg .value { fill: var(--ink); font-weight: 600; font-variant-numeric: tabular-nums; }
svg .value.small { font-size: 12px; }
svg .tick, svg .muted { fill: var(--muted); font-size: 12px; font-weight: 400; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .bar { fill: var(--accent); }
svg .bar.alt { fill: var(--amber); }
svg .step-0 { fill: var(--s0); } svg .step-1 { fill: var(--s1); } svg .step-2 { fill: var(--s2); }
svg .step-3 { fill: var(--s3); } svg .step-4 { fill: var(--s4); }
svg .demand { fill: var(--amber); } svg .supply { fill: var(--green); }
svg .flag { fill: var(--amber-soft); stroke: var(--amber); stroke-dasharray: 5 4; }
svg .red { fill: var(--red); }

.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; color: var(--muted); font-size: .86rem; padding: 0 0 6px; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { text-align: right; }
tbody th { font-weight: 500; }
.csv { margin: 10px 0 0; font-size: .9rem; }
.csv a { display: inline-flex; align-items: center; gap: 6px; }

button, .button {
  font: inherit; font-size: .92rem; border-radius: 8px; padding: 7px 14px; cursor: pointer;
  border: 1px solid var(--line); background: var(--card); color: var(--ink);
}
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; padding: 11px 22px; font-size: 1rem; }
button:hover { filter: brightness(0.96); }
form.inline { display: inline; margin: 0; }

footer { color: var(--muted); font-size: .86rem; padding: 10px 0 30px; }
footer p { margin: 4px 0; max-width: 80ch; }

.solo { min-height: 100vh; display: grid; place-items: center; padding: 20px; }
.solo .panel { max-width: 460px; width: 100%; text-align: center; padding: 32px 28px; }
.solo h1 { font-size: 1.4rem; margin-bottom: 10px; }
.solo p { color: var(--muted); }
.solo code { background: var(--accent-soft); color: var(--ink); padding: 2px 6px; border-radius: 6px; }

@media (max-width: 640px) {
  .wrap { padding: 0 12px; }
  h1 { font-size: 1.35rem; }
  .panel { padding: 16px 14px; border-radius: 12px; }
  .card .v { font-size: 1.3rem; }
  th, td { padding: 6px 6px; }
  table { font-size: .86rem; }
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
@media print {
  header.top form, .periods, .csv { display: none; }
  body { background: #fff; }
  .panel { break-inside: avoid; border-color: #bbb; }
}
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
"""

CSS_BYTES = CSS.encode()
CSS_HASH = hashlib.sha256(CSS_BYTES).hexdigest()[:12]
CSS_PATH = f"/dashboard/assets/dashboard-{CSS_HASH}.css"
