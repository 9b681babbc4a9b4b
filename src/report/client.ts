/**
 * The report page's own script, as text inlined after Chart.js. It reads the chart specs from
 * `<script id="report-data" type="application/json">` (built by `chartSpecs` in render.ts), draws
 * every `<canvas data-chart="ID">`, and leaves the Chart objects on `window.litheReport.charts`
 * for tests. Labels and tooltips are drawn on the canvas: no data string ever becomes HTML.
 *
 * Plain ES2020 in a string (not compiled TypeScript) so that the page gets exactly this text.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var spec = JSON.parse(document.getElementById('report-data').textContent);
  var COLOR = { frontier: '#2563eb', dominated: '#94a3b8', grid: '#e2e8f0', text: '#334155', bar: '#60a5fa', flag: '#f97316' };
  var FONT = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.family = FONT;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = COLOR.text;
  Chart.defaults.animation = false;

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB'], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (Number.isInteger(n) ? n : n.toFixed(1)) + ' ' + units[i];
  }
  function ms(n) { return (n < 1 ? +n.toFixed(3) : +n.toFixed(2)) + ' ms'; }
  var FORMAT = { bytes: bytes, ms: ms };

  // Log-axis ticks a reader can add up: powers of two for bytes (16 KiB, 32 KiB, …), 1-2-5 steps
  // for milliseconds; thinned to at most 8.
  function logTicks(unit, min, max) {
    var t = [], k;
    if (unit === 'bytes') {
      for (k = Math.floor(Math.log2(min)); k <= Math.ceil(Math.log2(max)); k++) t.push(Math.pow(2, k));
    } else {
      for (k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++)
        [1, 2, 5].forEach(function (m) { t.push(+(m * Math.pow(10, k)).toPrecision(3)); });
    }
    t = t.filter(function (v) { return v >= min && v <= max; });
    var step = Math.ceil(t.length / 8);
    return t.filter(function (_, i) { return i % step === 0; }).map(function (v) { return { value: v }; });
  }

  // Each point's name beside it: the first of eight places around the point that stays inside
  // the plot and overlaps neither another label nor a point.
  var pointLabels = {
    id: 'litheLabels',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, area = chart.chartArea, boxes = [], h = 14, gap = 9;
      var labelled = chart.data.datasets.map(function (ds, i) { return ds.pointLabels ? i : -1; }).filter(function (i) { return i >= 0; });
      labelled.forEach(function (i) {
        chart.getDatasetMeta(i).data.forEach(function (el) { boxes.push({ x: el.x - 7, y: el.y - 7, w: 14, h: 14 }); });
      });
      ctx.save();
      ctx.font = '600 12px ' + FONT;
      ctx.textBaseline = 'middle';
      labelled.forEach(function (i) {
        var ds = chart.data.datasets[i];
        chart.getDatasetMeta(i).data.forEach(function (el, j) {
          var text = ds.pointLabels[j], w = ctx.measureText(text).width;
          var places = [
            [el.x + gap, el.y - h / 2], [el.x - gap - w, el.y - h / 2], [el.x - w / 2, el.y - gap - h], [el.x - w / 2, el.y + gap],
            [el.x + gap, el.y - h - 3], [el.x + gap, el.y + 3], [el.x - gap - w, el.y - h - 3], [el.x - gap - w, el.y + 3],
          ];
          function inside(p) { return p[0] >= area.left && p[0] + w <= area.right && p[1] >= area.top && p[1] + h <= area.bottom; }
          function free(p) { return !boxes.some(function (b) { return p[0] < b.x + b.w && b.x < p[0] + w && p[1] < b.y + b.h && b.y < p[1] + h; }); }
          var at = places.find(function (p) { return inside(p) && free(p); }) || places.find(inside) || places[0];
          boxes.push({ x: at[0], y: at[1], w: w, h: h });
          ctx.lineWidth = 4;
          ctx.strokeStyle = 'rgba(255, 255, 255, 0.92)';
          ctx.strokeText(text, at[0], at[1] + h / 2);
          ctx.fillStyle = ds.labelColors[j];
          ctx.fillText(text, at[0], at[1] + h / 2);
        });
      });
      ctx.restore();
    },
  };

  function paretoChart(canvas, s) {
    var xs = s.points.map(function (p) { return p.x; }), ys = s.points.map(function (p) { return p.y; });
    var xMin = Math.min.apply(null, xs), xMax = Math.max.apply(null, xs);
    var yMin = Math.min.apply(null, ys), yMax = Math.max.apply(null, ys);
    var yPad = Math.max(0.5, 0.12 * (yMax - yMin));
    // y range on whole half-points, so the axis reads 89.0% … 92.5%
    var yLo = Math.max(0, Math.floor(2 * (yMin - yPad)) / 2), yHi = Math.min(100, Math.ceil(2 * (yMax + yPad)) / 2);
    var frontier = s.points.filter(function (p) { return p.frontier; }).sort(function (a, b) { return a.x - b.x; });
    return new Chart(canvas, {
      type: 'scatter',
      data: {
        datasets: [
          {
            // The staircase a user can buy along: from each frontier point, flat until the next one.
            label: 'frontier', data: frontier.map(function (p) { return { x: p.x, y: p.y }; }),
            showLine: true, stepped: 'after', borderColor: COLOR.frontier, borderDash: [6, 4], borderWidth: 1.5,
            pointRadius: 0, pointHitRadius: 0, order: 2,
          },
          {
            label: 'steps', data: s.points.map(function (p) { return { x: p.x, y: p.y }; }),
            pointLabels: s.points.map(function (p) { return p.label; }),
            labelColors: s.points.map(function (p) { return p.frontier ? '#1e3a8a' : '#64748b'; }),
            pointRadius: 6, pointHoverRadius: 8, pointBorderWidth: 2,
            pointBackgroundColor: s.points.map(function (p) { return p.frontier ? COLOR.frontier : '#ffffff'; }),
            pointBorderColor: s.points.map(function (p) { return p.frontier ? COLOR.frontier : COLOR.dominated; }),
            order: 1,
          },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false,
        layout: { padding: { top: 4, right: 12 } },
        scales: {
          x: {
            type: 'logarithmic', min: xMin / 1.8, max: xMax * 1.8,
            afterBuildTicks: function (scale) { scale.ticks = logTicks(s.xUnit, scale.min, scale.max); },
            ticks: { callback: function (v) { return FORMAT[s.xUnit](v); } },
            title: { display: true, text: s.xTitle }, grid: { color: COLOR.grid },
          },
          y: {
            min: yLo, max: yHi,
            ticks: { callback: function (v) { return v.toFixed(1) + '%'; } },
            title: { display: true, text: 'top-1 accuracy' }, grid: { color: COLOR.grid },
          },
        },
        plugins: {
          legend: {
            position: 'bottom', onClick: null,
            labels: {
              usePointStyle: true, boxHeight: 8,
              generateLabels: function () {
                return [
                  { text: 'on the Pareto frontier', pointStyle: 'circle', fillStyle: COLOR.frontier, strokeStyle: COLOR.frontier, lineWidth: 2 },
                  { text: 'dominated', pointStyle: 'circle', fillStyle: '#ffffff', strokeStyle: COLOR.dominated, lineWidth: 2 },
                  { text: 'frontier', pointStyle: 'line', strokeStyle: COLOR.frontier, lineWidth: 2, lineDash: [6, 4] },
                ];
              },
            },
          },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 1; },
            callbacks: {
              title: function (items) { return s.points[items[0].dataIndex].label; },
              label: function (item) {
                var p = s.points[item.dataIndex];
                return p.y.toFixed(2) + '% top-1 · ' + FORMAT[s.xUnit](p.x) + (p.frontier ? ' · on the frontier' : ' · dominated');
              },
            },
          },
        },
      },
      plugins: [pointLabels],
    });
  }

  function barChart(canvas, s) {
    return new Chart(canvas, {
      type: 'bar',
      data: {
        labels: s.bars.map(function (b) { return b.label; }),
        datasets: [{
          label: s.xTitle, data: s.bars.map(function (b) { return b.value; }),
          backgroundColor: s.bars.map(function (b) { return b.flag ? COLOR.flag : COLOR.bar; }),
          borderRadius: 3, barPercentage: 0.85, categoryPercentage: 0.85, maxBarThickness: 22,
        }],
      },
      options: {
        indexAxis: 'y', responsive: true, maintainAspectRatio: false,
        scales: {
          x: {
            type: s.log ? 'logarithmic' : 'linear', min: s.log ? undefined : 0, max: s.max,
            title: { display: true, text: s.xTitle }, grid: { color: COLOR.grid },
          },
          y: {
            grid: { display: false },
            ticks: { autoSkip: false, callback: function (_, i) { var l = s.bars[i].label; return l.length > 36 ? l.slice(0, 35) + '…' : l; } },
          },
        },
        plugins: {
          legend: {
            display: !!s.flagLabel, position: 'bottom', onClick: null,
            labels: {
              boxWidth: 12, boxHeight: 12,
              generateLabels: function () {
                return [
                  { text: s.barLabel, fillStyle: COLOR.bar, strokeStyle: COLOR.bar, lineWidth: 0 },
                  { text: s.flagLabel, fillStyle: COLOR.flag, strokeStyle: COLOR.flag, lineWidth: 0 },
                ];
              },
            },
          },
          tooltip: {
            callbacks: {
              title: function (items) { return s.bars[items[0].dataIndex].label; },
              label: function (item) { return s.bars[item.dataIndex].detail; },
            },
          },
        },
      },
    });
  }

  var charts = {};
  spec.pareto.forEach(function (s) { charts[s.id] = paretoChart(document.querySelector('canvas[data-chart="' + s.id + '"]'), s); });
  spec.bars.forEach(function (s) { charts[s.id] = barChart(document.querySelector('canvas[data-chart="' + s.id + '"]'), s); });
  window.litheReport = { charts: charts, spec: spec };
  document.documentElement.setAttribute('data-charts', 'ready');
})();
`;
