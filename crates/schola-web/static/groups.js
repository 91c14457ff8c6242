// Schola, a group's page: the "all" box in the members table ticks or clears every member's box,
// and clears itself when one member is left out. Without JavaScript, ticking "all" still acts on
// every member: the server reads it.
'use strict';
(function () {
  var all = document.getElementById('bulk-all');
  var form = document.getElementById('group-bulk');
  if (!all || !form) {
    return;
  }
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=login]'));
  all.addEventListener('change', function () {
    boxes.forEach(function (b) {
      b.checked = all.checked;
    });
  });
  boxes.forEach(function (b) {
    b.addEventListener('change', function () {
      all.checked = boxes.every(function (x) {
        return x.checked;
      });
    });
  });
})();
