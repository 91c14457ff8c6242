// Schola, the people list: search as you type. After a short pause in typing (or a change of a
// filter) the list is fetched from the same address the filter form would open, and only the
// results are swapped in; the address bar follows, so reload and back keep working. Without
// JavaScript the filter form is an ordinary GET form.
'use strict';
(function () {
  var form = document.getElementById('people-filter');
  var results = document.getElementById('people-results');
  var q = document.getElementById('q');
  if (!form || !results || !q || !document.getElementById('people-count') || !window.fetch || !window.DOMParser || !window.URLSearchParams) {
    return;
  }
  var timer = null;
  var latest = 0;

  function target() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== '') {
        params.append(key, value);
      }
    });
    var query = params.toString();
    return form.getAttribute('action') + (query ? '?' + query : '');
  }

  function refresh() {
    var url = target();
    var mine = ++latest;
    results.setAttribute('aria-busy', 'true');
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error('status ' + r.status);
        }
        return r.text();
      })
      .then(function (text) {
        if (mine !== latest) {
          return; // a newer search is under way
        }
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var fresh = doc.getElementById('people-results');
        var count = doc.getElementById('people-count');
        if (!fresh || !count) {
          window.location.assign(url); // signed out meanwhile: let the server say where to go
          return;
        }
        results.innerHTML = fresh.innerHTML;
        // the count stays the same element, so screen readers announce the new number
        document.getElementById('people-count').textContent = count.textContent;
        window.history.replaceState(null, '', url);
      })
      .catch(function () {
        if (mine === latest) {
          form.submit();
        }
      })
      .then(function () {
        if (mine === latest) {
          results.removeAttribute('aria-busy');
        }
      });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  q.addEventListener('input', soon);
  form.addEventListener('change', function (e) {
    if (e.target !== q) {
      soon();
    }
  });
})();
