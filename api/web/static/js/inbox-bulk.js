// Inbox bulk actions: the header checkbox selects or clears every case on
// this page. Without JavaScript the "select every case on this page" link
// does the same through the server.
(function () {
  var all = document.getElementById('inbox-select-all');
  if (!all) {
    return;
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="task"][form="bulk-form"]'));
  var wrap = document.getElementById('inbox-select-all-wrap');
  if (wrap) {
    wrap.hidden = false;
  }
  function sync() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = n > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  }
  all.addEventListener('change', function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
    sync();
  });
  boxes.forEach(function (b) { b.addEventListener('change', sync); });
  sync();
})();
