// The security dashboard: redraws the charts and counts every 10 seconds from
// /security/dashboard.json. The page works without it (the server drew the charts).
const charts = document.querySelectorAll('[data-chart]');
const status = document.getElementById('charts-status');

async function refresh() {
  try {
    const res = await fetch('/security/dashboard.json', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`status ${res.status}`);
    const d = await res.json();
    for (const c of d.charts) {
      const figure = document.querySelector(`[data-chart="${c.id}"]`);
      if (!figure) continue;
      figure.querySelector('polyline').setAttribute('points', c.points);
      figure.querySelector('[data-latest]').textContent = c.latest;
      figure.querySelector('[data-peak]').textContent = c.peak;
    }
    const open = document.querySelector('[data-alerts-open]');
    if (open) open.textContent = d.alerts_open;
    const blocked = document.querySelector('[data-blocked]');
    if (blocked) blocked.textContent = d.blocked_sources;
    status.textContent = `Updated at ${new Date().toLocaleTimeString()}.`;
  } catch {
    status.textContent = 'Could not update the charts; they will try again shortly.';
  }
}

if (charts.length > 0 && status) setInterval(refresh, 10_000);
