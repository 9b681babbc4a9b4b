/** The report's stylesheet, inlined in `<style>`: system fonts only, nothing to fetch. */
export const REPORT_CSS = `
:root {
  --ink: #0f172a; --ink-2: #334155; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --panel: #ffffff;
  --blue: #2563eb; --good: #15803d; --bad: #b91c1c;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1280px; margin: 0 auto; padding: 28px 32px 48px; }
header h1 { font-size: 24px; margin: 0 0 4px; letter-spacing: -0.01em; }
header .sub { color: var(--muted); margin: 0; }
h2 { font-size: 16px; margin: 32px 0 12px; color: var(--ink); }
h2 .hint { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 8px; }
.panel { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; box-shadow: 0 1px 2px rgba(15, 23, 42, 0.04); }
.grid2 { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
.panel h3 { margin: 0 0 8px; font-size: 14px; color: var(--ink-2); }
.chart { position: relative; width: 100%; }
.cards { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 12px; margin-top: 20px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.card .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card.good .value { color: var(--good); }
.card.bad .value { color: var(--bad); }
.card .label { color: var(--ink-2); font-weight: 500; }
.card .detail { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
.steps { font-size: 13px; }
th, td { padding: 6px 8px; text-align: left; vertical-align: top; }
thead th { font-size: 12px; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); white-space: nowrap; }
tbody tr + tr > * { border-top: 1px solid var(--line); }
tbody th { font-weight: 600; white-space: nowrap; }
/* numeric columns: top-1 (2nd) through faster (12th) */
.steps td:nth-child(n+2):nth-child(-n+12) { text-align: right; white-space: nowrap; }
.steps thead th:nth-child(n+2):nth-child(-n+12) { text-align: right; }
.steps .file { font-weight: 400; color: var(--muted); font-size: 11.5px; white-space: normal; overflow-wrap: anywhere; min-width: 9em; }
.badge + .badge { margin-top: 2px; }
.badges { display: inline-flex; flex-direction: column; align-items: flex-start; }
.num { font-variant-numeric: tabular-nums; }
.good { color: var(--good); }
.bad { color: var(--bad); }
.muted { color: var(--muted); }
.notes { color: var(--muted); font-size: 12px; min-width: 160px; overflow-wrap: anywhere; }
.kind { display: inline-block; margin-left: 4px; padding: 0 7px; font-weight: 500; border-radius: 999px; font-size: 12px; background: #f1f5f9; color: var(--ink-2); }
.kind-teacher, .kind-baseline { background: #ede9fe; color: #5b21b6; }
.kind-distill { background: #dbeafe; color: #1e40af; }
.kind-prune { background: #dcfce7; color: #166534; }
.kind-quantize { background: #ffedd5; color: #9a3412; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 11px; border: 1px solid #bfdbfe; color: var(--blue); background: #eff6ff; }
.confusion { width: auto; }
.confusion td, .confusion thead th { text-align: center; padding: 2px; }
.confusion td, .confusion tbody th { vertical-align: middle; }
.confusion td:last-child, .confusion thead th:last-child { padding-left: 12px; text-align: right; }
.confusion tbody th { text-align: right; padding-right: 10px; }
.confusion thead th { vertical-align: bottom; }
.confusion .rot { writing-mode: vertical-rl; transform: rotate(180deg); display: inline-block; max-height: 120px; overflow: hidden; text-overflow: ellipsis; }
.hm { display: block; min-width: 52px; padding: 6px 4px; border-radius: 4px; font-variant-numeric: tabular-nums; color: var(--ink); }
.hm.ink-light { color: #ffffff; }
.hm.zero { color: #cbd5e1; }
.caption { color: var(--muted); font-size: 12px; margin: 10px 0 0; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.commands { background: #0f172a; color: #e2e8f0; border-radius: 8px; padding: 12px 14px; overflow-x: auto; font-size: 12.5px; margin: 14px 0 0; }
.commands .prompt { color: #64748b; user-select: none; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`;
