// Schola, the file browser of the portal (/files). It talks to /files/api/..., which schola-web
// forwards to schola-files as the signed-in person; every request that changes something
// carries the page's CSRF token in X-CSRF-Token. Uploads go in resumable chunks of 8 MiB: after
// a network error the upload asks the server how much it has and goes on from there.
// No inline script or style (the CSP forbids both); the texts come translated in data-t-*.
'use strict';
(function () {
  var root = document.getElementById('files');
  if (!root) {
    return;
  }
  var CHUNK = 8 * 1024 * 1024;
  var csrf = root.dataset.csrf;
  var params = new URLSearchParams(location.search);
  var cwd = normalise(params.get('path') || '/');

  function text(key, values) {
    var s = root.getAttribute('data-t-' + key) || key;
    Object.keys(values || {}).forEach(function (k) {
      s = s.split('{' + k + '}').join(String(values[k]));
    });
    return s;
  }

  function normalise(p) {
    var parts = p.split('/').filter(function (x) {
      return x !== '' && x !== '.';
    });
    return '/' + parts.join('/');
  }

  function join(dir, name) {
    return dir === '/' ? '/' + name : dir + '/' + name;
  }

  function human(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    var s = i === 0 ? String(n) : n.toFixed(1).replace(/\.0$/, '');
    return s.replace('.', document.documentElement.lang === 'en' ? '.' : ',') + ' ' + units[i];
  }

  function when(unix) {
    return unix ? new Date(unix * 1000).toLocaleString(document.documentElement.lang) : '';
  }

  var statusEl = document.getElementById('files-status');
  var errorEl = document.getElementById('files-error');

  function say(msg) {
    errorEl.hidden = true;
    statusEl.textContent = msg;
    statusEl.hidden = !msg;
  }

  function fail(msg) {
    statusEl.hidden = true;
    errorEl.textContent = msg;
    errorEl.hidden = false;
  }

  // An error of the API, as a sentence: the server's own message where it sent one.
  function ApiError(status, message) {
    this.status = status;
    this.message = message;
  }

  async function api(method, path, body, extra) {
    var headers = { Accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD') {
      headers['X-CSRF-Token'] = csrf;
    }
    var init = { method: method, headers: headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    Object.assign(init, extra || {});
    var r = await fetch('/files/api/' + path, init);
    var data = null;
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
    if (!r.ok) {
      var message = data && data.error ? data.error : r.status + ' ' + r.statusText;
      if (r.status === 503) {
        message = text('down');
      }
      throw new ApiError(r.status, message);
    }
    return data;
  }

  function show(e) {
    fail(text('error', { error: e && e.message ? e.message : String(e) }));
  }

  function q(path) {
    return 'path=' + encodeURIComponent(path);
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') {
        e.textContent = attrs[k];
      } else {
        e.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) {
      e.appendChild(c);
    });
    return e;
  }

  function button(label, onclick, kind) {
    var b = el('button', { type: 'button', class: 'small ' + (kind || 'secondary'), text: label });
    b.addEventListener('click', onclick);
    return b;
  }

  function crumbs() {
    var nav = document.getElementById('crumbs');
    nav.textContent = '';
    nav.appendChild(el('a', { href: '/files?' + q('/'), text: text('root') }));
    var parts = cwd.split('/').filter(Boolean);
    parts.forEach(function (name, i) {
      nav.appendChild(document.createTextNode(' › '));
      var p = '/' + parts.slice(0, i + 1).join('/');
      if (i === parts.length - 1) {
        nav.appendChild(el('span', { 'aria-current': 'page', text: name }));
      } else {
        nav.appendChild(el('a', { href: '/files?' + q(p), text: name }));
      }
    });
  }

  async function list() {
    var body = document.querySelector('#file-list tbody');
    try {
      var data = await api('GET', 'list?' + q(cwd));
      body.textContent = '';
      var entries = (data.entries || []).slice().sort(function (a, b) {
        return (b.dir - a.dir) || a.name.localeCompare(b.name);
      });
      if (!entries.length) {
        body.appendChild(el('tr', {}, [el('td', { colspan: '4', text: text('empty') })]));
      }
      entries.forEach(function (e) {
        var path = join(cwd, e.name);
        var link = e.dir
          ? el('a', { href: '/files?' + q(path), class: 'folder', text: e.name + '/' })
          : el('a', { href: '/files/api/download?' + q(path), download: e.name, text: e.name });
        var actions = el('td', { class: 'actions' });
        if (data.writable !== false) {
          actions.appendChild(button(text('rename'), function () {
            var to = window.prompt(text('rename-prompt'), path);
            if (to && normalise(to) !== path) {
              act('rename', { from: path, to: normalise(to) });
            }
          }));
          actions.appendChild(document.createTextNode(' '));
        }
        actions.appendChild(button(text('copy'), function () {
          var to = window.prompt(text('copy-prompt'), path);
          if (to) {
            act('copy', { from: path, to: normalise(to) });
          }
        }));
        if (data.writable !== false) {
          actions.appendChild(document.createTextNode(' '));
          actions.appendChild(button(text('delete'), function () {
            if (window.confirm(text('delete-confirm', { name: e.name }))) {
              act('delete', { paths: [path] }, text('deleted'));
            }
          }, 'danger'));
        }
        var row = el('tr', { 'data-name': e.name }, [
          el('td', {}, [link]),
          el('td', { text: e.dir ? '' : human(e.size) }),
          el('td', { text: when(e.modified) }),
          actions,
        ]);
        body.appendChild(row);
      });
      var writable = data.writable !== false;
      document.getElementById('mkdir-form').hidden = !writable;
      document.getElementById('upload-form').hidden = !writable;
    } catch (e) {
      body.textContent = '';
      show(e);
    }
  }

  async function act(what, payload, done) {
    try {
      await api('POST', what, payload);
      say(done || '');
      await Promise.all([list(), usage()]);
      if (!document.getElementById('trash-list').hidden) {
        await trash();
      }
    } catch (e) {
      show(e);
    }
  }

  async function usage() {
    try {
      var u = await api('GET', 'usage');
      if (!u || !u.home) {
        return;
      }
      var bar = document.getElementById('usage-bar');
      bar.max = Math.max(u.home.limit, 1);
      bar.value = Math.min(u.home.used, bar.max);
      document.getElementById('usage-text').textContent = text('usage', {
        used: human(u.home.used),
        limit: human(u.home.limit),
      });
      document.getElementById('usage').hidden = false;
    } catch (e) {
      // the listing says what is wrong; the bar just stays hidden
    }
  }

  async function trash() {
    var table = document.getElementById('trash-list');
    var body = table.querySelector('tbody');
    try {
      var items = await api('GET', 'trash');
      body.textContent = '';
      if (!items.length) {
        body.appendChild(el('tr', {}, [el('td', { colspan: '4', text: text('trash-empty') })]));
      }
      items.forEach(function (it) {
        body.appendChild(el('tr', { 'data-id': it.id }, [
          el('td', { text: it.path }),
          el('td', { text: human(it.size || 0) }),
          el('td', { text: when(it.deleted_at) }),
          el('td', {}, [button(text('restore'), async function () {
            try {
              var r = await api('POST', 'restore', { id: it.id });
              say(text('restored', { path: r.path }));
              await Promise.all([list(), trash(), usage()]);
            } catch (e) {
              show(e);
            }
          })]),
        ]));
      });
      table.hidden = false;
    } catch (e) {
      show(e);
    }
  }

  // --- uploads: resumable, in chunks --------------------------------------------------------

  var progress = document.getElementById('upload-progress');
  var progressText = document.getElementById('upload-text');

  function sleep(ms) {
    return new Promise(function (r) {
      setTimeout(r, ms);
    });
  }

  // One chunk by XMLHttpRequest (fetch reports no upload progress). Resolves with the
  // server's answer; rejects with {network: true} when the connection failed.
  function putChunk(id, offset, blob, onProgress) {
    return new Promise(function (resolve, reject) {
      var x = new XMLHttpRequest();
      x.open('PUT', '/files/api/uploads/' + encodeURIComponent(id) + '?offset=' + offset);
      x.setRequestHeader('X-CSRF-Token', csrf);
      x.setRequestHeader('Content-Type', 'application/octet-stream');
      x.upload.onprogress = function (ev) {
        onProgress(ev.loaded);
      };
      x.onload = function () {
        var data = null;
        try {
          data = JSON.parse(x.responseText);
        } catch (e) {
          data = null;
        }
        resolve({ status: x.status, data: data });
      };
      x.onerror = function () {
        reject({ network: true });
      };
      x.onabort = x.onerror;
      x.send(blob);
    });
  }

  function resumeKey(path, file) {
    return 'schola-upload:' + path + ':' + file.size + ':' + file.lastModified;
  }

  async function uploadOne(file) {
    var path = join(cwd, file.name);
    var key = resumeKey(path, file);
    var id = null;
    var offset = 0;
    try {
      id = localStorage.getItem(key);
    } catch (e) {
      id = null;
    }
    if (id) {
      try {
        offset = (await api('GET', 'uploads/' + encodeURIComponent(id))).offset;
      } catch (e) {
        id = null;
      }
    }
    if (!id) {
      var started = await api('POST', 'uploads', { path: path, size: file.size });
      id = started.id;
      offset = started.offset || 0;
      try {
        localStorage.setItem(key, id);
      } catch (e) {
        // private mode: the upload still works, it just cannot resume after a reload
      }
    }
    var showProgress = function (sent) {
      var pct = file.size ? Math.floor((100 * sent) / file.size) : 100;
      progress.value = pct;
      progressText.textContent = text('upload-progress', { name: file.name, percent: pct });
    };
    var failures = 0;
    while (offset < file.size) {
      var end = Math.min(offset + CHUNK, file.size);
      var base = offset;
      showProgress(base);
      try {
        var r = await putChunk(id, offset, file.slice(offset, end), function (loaded) {
          showProgress(base + loaded);
        });
        if (r.status === 409 && r.data && typeof r.data.offset === 'number') {
          offset = r.data.offset; // the server has a different amount: go on from there
          continue;
        }
        if (r.status < 200 || r.status >= 300) {
          throw new ApiError(r.status, r.data && r.data.error ? r.data.error : String(r.status));
        }
        offset = r.data.offset;
        failures = 0;
      } catch (e) {
        if (!e.network || failures >= 30) {
          throw e;
        }
        failures += 1;
        progressText.textContent = text('upload-resume');
        await sleep(Math.min(1000 * failures, 10000));
        try {
          offset = (await api('GET', 'uploads/' + encodeURIComponent(id))).offset;
        } catch (e2) {
          if (e2 instanceof ApiError && e2.status !== 503) {
            throw e2;
          }
        }
      }
    }
    showProgress(file.size);
    var finished = await api('POST', 'uploads/' + encodeURIComponent(id) + '/finish', {});
    try {
      localStorage.removeItem(key);
    } catch (e) {
      // nothing to forget
    }
    return finished;
  }

  async function upload(files) {
    var box = document.getElementById('upload');
    var submit = document.getElementById('upload-submit');
    box.hidden = false;
    submit.disabled = true;
    try {
      for (var i = 0; i < files.length; i += 1) {
        var f = files[i];
        try {
          await uploadOne(f);
          say(text('upload-done', { name: f.name }));
        } catch (e) {
          fail(text('upload-failed', { name: f.name, error: e && e.message ? e.message : e }));
          break;
        }
      }
    } finally {
      submit.disabled = false;
      await Promise.all([list(), usage()]);
    }
  }

  // --- hand-outs (teachers) -----------------------------------------------------------------

  async function handouts() {
    var ul = document.getElementById('handout-list');
    if (!ul) {
      return;
    }
    try {
      var items = await api('GET', 'handouts');
      ul.textContent = '';
      if (!items || !items.length) {
        ul.appendChild(el('li', { text: text('handout-none') }));
      }
      (items || []).forEach(function (h) {
        var li = el('li', { 'data-id': h.id }, [
          el('span', { text: h.title + ' · ' + h.group + ' · ' + when(h.deadline) + ' ' }),
          button(text('collect'), async function () {
            try {
              var r = await api('POST', 'handouts/' + encodeURIComponent(h.id) + '/collect', {});
              var late = (r && r.late) || [];
              say(text('collected', {
                path: (r && r.path) || '/home/Collected/' + h.title,
                late: late.length ? late.join(', ') : '–',
              }));
              await list();
            } catch (e) {
              show(e);
            }
          }),
        ]);
        ul.appendChild(li);
      });
    } catch (e) {
      show(e);
    }
  }

  // --- wiring -------------------------------------------------------------------------------

  document.getElementById('mkdir-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = document.getElementById('mkdir-name');
    var name = input.value.trim();
    if (name) {
      act('mkdir', { path: join(cwd, name) }).then(function () {
        input.value = '';
      });
    }
  });

  document.getElementById('upload-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = document.getElementById('upload-input');
    if (input.files && input.files.length) {
      upload(Array.prototype.slice.call(input.files)).then(function () {
        input.value = '';
      });
    }
  });

  document.getElementById('trash-show').addEventListener('click', trash);

  var handoutForm = document.getElementById('handout-form');
  if (handoutForm) {
    handoutForm.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var deadline = Date.parse(document.getElementById('handout-deadline').value);
      try {
        await api('POST', 'handouts', {
          group: document.getElementById('handout-group').value,
          path: cwd,
          title: document.getElementById('handout-title').value.trim(),
          deadline: Math.floor(deadline / 1000),
        });
        say(text('handout-done'));
        await handouts();
      } catch (e) {
        show(e);
      }
    });
  }

  crumbs();
  list();
  usage();
  handouts();
})();
