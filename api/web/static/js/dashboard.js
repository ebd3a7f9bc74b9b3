// The dashboard's charts: each figure.dashboard-chart names the table it
// is drawn from (data-table). The table is the figure: its row headers are
// the chart's labels, each column whose cells carry data-y is a series
// (named by its column header). Chart.js comes from npm through
// make assets (static/vendor/js/chart.umd.min.js); without it, or without
// JavaScript, the tables stand alone.
(function () {
  var palette = ['#0066cc', '#d9364f', '#008758', '#a66300', '#5c6f82', '#7a3dba', '#00838f', '#995c00'];

  function series(table) {
    var heads = table.querySelectorAll('thead th');
    var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr'));
    var labels = rows.map(function (r) { return r.querySelector('th').textContent.trim(); });
    var sets = [];
    for (var col = 1; col < heads.length; col++) {
      var data = [];
      var plotted = false;
      rows.forEach(function (r) {
        var cell = r.children[col];
        var y = cell ? cell.getAttribute('data-y') : null;
        if (y !== null) {
          plotted = true;
        }
        data.push(y === null ? null : parseFloat(y));
      });
      if (plotted) {
        var color = palette[sets.length % palette.length];
        sets.push({ label: heads[col].textContent.trim(), data: data, backgroundColor: color, borderColor: color });
      }
    }
    return { labels: labels, datasets: sets };
  }

  function draw() {
    if (!window.Chart) {
      return false;
    }
    document.querySelectorAll('figure.dashboard-chart').forEach(function (fig) {
      var table = document.getElementById(fig.getAttribute('data-table'));
      var canvas = fig.querySelector('canvas');
      if (!table || !canvas || canvas.getAttribute('data-drawn')) {
        return;
      }
      var stacked = fig.getAttribute('data-stacked') === 'true';
      canvas.setAttribute('data-drawn', 'true');
      new window.Chart(canvas, {
        type: 'bar',
        data: series(table),
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: true,
          scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } }
        }
      });
    });
    return true;
  }

  // Loaded by a boosted navigation, the two scripts may run in either
  // order: wait for Chart.js when it is not there yet.
  if (!draw()) {
    var lib = document.querySelector('script[src$="chart.umd.min.js"]');
    if (lib) {
      lib.addEventListener('load', draw);
    }
    window.addEventListener('load', draw);
  }
})();
