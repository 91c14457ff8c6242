// Schola, the Updates page: follows a running update live. The server sends the log as
// server-sent events from where the page left off; when nothing runs any more, the page reloads
// to show the outcome. Without JavaScript the page reloads itself instead (a <noscript> refresh).
'use strict';
(function () {
  var log = document.getElementById('update-log');
  if (!log || log.dataset.busy !== 'true' || !window.EventSource) {
    return;
  }
  var source = new EventSource('/admin/updates/events?from=' + encodeURIComponent(log.dataset.next || '0'));
  source.addEventListener('reset', function () {
    log.textContent = '';
  });
  source.addEventListener('log', function (e) {
    log.textContent += e.data + '\n';
    log.scrollTop = log.scrollHeight;
  });
  source.addEventListener('done', function () {
    source.close();
    window.location.reload();
  });
})();
