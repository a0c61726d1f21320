/*
 * Progressive enhancement of the staff pages; every page works without it.
 * Language tabs, live Markdown preview (rendered by the server's sanitiser),
 * keyword chips, no accidental form posts on Enter, upload progress, the scheduled
 * time in the browser's zone, and the release's page following publication and
 * delivery live. No dependencies; strings come from the server's rendering.
 */
(function () {
  'use strict';

  function csrfToken() {
    var input = document.querySelector('input[name="_csrf"]');
    return input ? input.value : '';
  }

  /* Language tabs: each language's fieldset goes into a tab panel (a fieldset may not be one itself). */
  function tabs(container) {
    var fieldsets = Array.prototype.slice.call(container.querySelectorAll('fieldset[data-lang]'));
    if (fieldsets.length < 2) return;
    var panels = fieldsets.map(function (fieldset) {
      var panel = document.createElement('div');
      panel.id = 'panel-' + fieldset.dataset.lang;
      panel.dataset.lang = fieldset.dataset.lang;
      panel.dataset.langName = fieldset.dataset.langName;
      if (fieldset.dataset.hasErrors) panel.dataset.hasErrors = 'true';
      fieldset.parentNode.insertBefore(panel, fieldset);
      panel.appendChild(fieldset);
      return panel;
    });
    var list = document.createElement('div');
    list.className = 'tablist';
    list.setAttribute('role', 'tablist');
    var buttons = panels.map(function (panel, index) {
      var button = document.createElement('button');
      button.type = 'button';
      button.id = 'tab-' + panel.dataset.lang;
      button.textContent = panel.dataset.langName;
      button.setAttribute('role', 'tab');
      button.setAttribute('aria-controls', panel.id);
      if (panel.dataset.hasErrors) button.classList.add('tab-error');
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', button.id);
      button.addEventListener('click', function () { select(index, true); });
      button.addEventListener('keydown', function (event) {
        var step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
        if (step) { event.preventDefault(); select((index + step + panels.length) % panels.length, true); }
      });
      list.appendChild(button);
      return button;
    });
    function select(index, focus) {
      panels.forEach(function (panel, i) {
        var on = i === index;
        panel.hidden = !on;
        buttons[i].setAttribute('aria-selected', String(on));
        buttons[i].tabIndex = on ? 0 : -1;
      });
      if (focus) buttons[index].focus();
    }
    container.insertBefore(list, panels[0]);
    var withError = panels.findIndex(function (p) { return p.dataset.hasErrors; });
    select(withError >= 0 ? withError : 0, false);
    // A link in the error summary to a field in a hidden tab opens that tab.
    document.addEventListener('click', function (event) {
      var link = event.target.closest && event.target.closest('.error-summary a[href^="#"]');
      if (!link) return;
      var target = document.getElementById(link.getAttribute('href').slice(1));
      var index = panels.findIndex(function (p) { return target && (p === target || p.contains(target)); });
      if (index >= 0) select(index, false);
    });
  }

  /* Live preview: the server renders Markdown with the same sanitiser as publication. */
  function preview(textarea) {
    var target = document.querySelector('[data-preview-of="' + textarea.id + '"]');
    if (!target) return;
    var timer, sent = 0;
    textarea.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++sent;
        var body = new URLSearchParams({ _csrf: csrfToken(), markdown: textarea.value });
        fetch('/admin/preview', { method: 'POST', body: body, credentials: 'same-origin' })
          .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
          .then(function (html) { if (mine === sent) target.innerHTML = html; })
          .catch(function () { /* the preview stays as it was */ });
      }, 350);
    });
  }

  /*
   * Keywords as chips. The typed field becomes the entry of one keyword: Enter or a
   * comma makes it a chip (never a save), and the form sends the chips, comma-separated,
   * in a hidden field of the field's name. Words still in the entry join on leaving it
   * and when the form is sent, so nothing typed is lost.
   */
  function chips(input) {
    var label = input.dataset.removeLabel || 'Remove {keyword}';
    var value = document.createElement('input');
    value.type = 'hidden';
    value.name = input.name;
    value.value = input.value;
    input.removeAttribute('name');
    input.value = '';
    input.parentNode.insertBefore(value, input);
    var list = document.createElement('ul');
    list.className = 'chips';
    list.setAttribute('aria-label', (document.querySelector('label[for="' + input.id + '"]') || {}).textContent || '');
    input.parentNode.insertBefore(list, input.nextSibling);
    function split(text) { return text.split(',').map(function (w) { return w.trim(); }).filter(Boolean); }
    function words() { return split(value.value); }
    function draw() {
      list.textContent = '';
      words().forEach(function (word, index) {
        var item = document.createElement('li');
        item.textContent = word;
        var remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = '×';
        remove.setAttribute('aria-label', label.replace('{keyword}', word));
        remove.addEventListener('click', function () {
          var rest = words();
          rest.splice(index, 1);
          value.value = rest.join(', ');
          draw();
          input.focus();
        });
        item.appendChild(remove);
        list.appendChild(item);
      });
    }
    /* The entry's words (all of them, or those before its last comma) become chips. */
    function add(all) {
      var text = input.value;
      var cut = all ? text.length : text.lastIndexOf(',') + 1;
      var added = split(text.slice(0, cut));
      if (!added.length && cut === 0) return;
      var known = words();
      var lower = known.map(function (w) { return w.toLowerCase(); });
      added.forEach(function (w) { if (lower.indexOf(w.toLowerCase()) < 0) { known.push(w); lower.push(w.toLowerCase()); } });
      value.value = known.join(', ');
      input.value = text.slice(cut).replace(/^\s+/, '');
      draw();
    }
    input.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ',') {
        event.preventDefault();
        add(true);
      } else if (event.key === 'Backspace' && input.value === '' && words().length) {
        // Backspace in the empty entry takes the last chip back into it, to be corrected.
        var rest = words();
        input.value = rest.pop();
        value.value = rest.join(', ');
        draw();
        event.preventDefault();
      }
    });
    // A pasted or typed list: the words before the last comma become chips.
    input.addEventListener('input', function () { if (input.value.indexOf(',') >= 0) add(false); });
    input.addEventListener('blur', function () { add(true); });
    input.form.addEventListener('submit', function () { add(true); });
    draw();
  }

  /*
   * On the release's page, Enter in a one-line field does not send its form: a save,
   * a schedule or a new contact happens only from its button, and nothing being typed
   * elsewhere on the page is lost to an accidental reload.
   */
  function enterStays(area) {
    area.addEventListener('keydown', function (event) {
      var field = event.target;
      if (event.key !== 'Enter' || field.tagName !== 'INPUT') return;
      if (/^(submit|button|reset|checkbox|radio|file|image)$/.test(field.type)) return;
      event.preventDefault();
    });
  }

  /* Upload with a progress bar; the server answers as it does without scripts. */
  function upload(form) {
    var bar = form.querySelector('.upload-progress');
    var status = form.querySelector('.upload-status');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('X-CSRF-Token', csrfToken());
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        status.textContent = (form.dataset.uploading || '{percent} %').replace('{percent}', percent);
      });
      xhr.addEventListener('load', function () {
        if (xhr.status < 400) { window.location.assign(xhr.responseURL || window.location.href); return; }
        var page = new DOMParser().parseFromString(xhr.responseText, 'text/html');
        var problem = page.querySelector('.upload-error, .error-summary');
        status.textContent = problem ? problem.textContent.trim() : form.dataset.failed || 'Upload failed';
        bar.hidden = true;
      });
      xhr.addEventListener('error', function () { status.textContent = form.dataset.failed || 'Upload failed'; bar.hidden = true; });
      xhr.send(new FormData(form));
    });
  }

  /* The wall-clock time in `zone` at `ms`, counted as if it were UTC. */
  function wallClock(ms, zone) {
    var parts = {};
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = Number(p.value); });
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  }

  /* The chosen publication time (in the newsroom's zone) shown in the browser's zone. */
  function browserTime(input) {
    var out = input.form.querySelector('.local-time');
    var zone = input.dataset.timezone;
    if (!out || !zone) return;
    function show() {
      var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(input.value);
      if (!m) { out.hidden = true; return; }
      var asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
      var instant = asUtc - (wallClock(asUtc, zone) - asUtc);
      instant = asUtc - (wallClock(instant, zone) - instant);
      var text = new Date(instant).toLocaleString(document.documentElement.lang, { dateStyle: 'full', timeStyle: 'short' });
      out.textContent = (out.dataset.label || '{time}').replace('{time}', text);
      out.hidden = false;
    }
    input.addEventListener('input', show);
    show();
  }

  /*
   * The release's page follows the release live (server-sent events, from the moment a
   * scheduled release is shown): its status and time, the parts that show in that
   * status (`data-while`), the delivery's progress, and its report, refreshed while
   * sending and at the end. The server closes the stream when nothing more will change.
   */
  function live(state) {
    if (!window.EventSource) return;
    var badge = state.querySelector('.status');
    var when = state.querySelector('.state-when');
    var changed = document.querySelector('.live-changed');
    var bar = document.querySelector('.delivery-progress');
    var counts = document.querySelector('.delivery-counts');
    var report = document.getElementById('delivery-report');
    var refreshed = 0;
    function refresh() {
      if (!report) return;
      refreshed = Date.now();
      fetch(report.dataset.src, { credentials: 'same-origin' })
        .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
        .then(function (html) { report.innerHTML = html; })
        .catch(function () { /* the report stays as it was */ });
    }
    var source = new EventSource(state.dataset.live);
    source.addEventListener('state', function (event) {
      var s = JSON.parse(event.data);
      badge.textContent = s.label;
      badge.className = 'status status-' + s.status;
      when.textContent = '';
      if (s.when) {
        var time = document.createElement('time');
        time.dateTime = s.when.at;
        time.textContent = s.when.text;
        when.append(s.when.label + ' ', time);
      }
      document.querySelectorAll('[data-while]').forEach(function (part) {
        part.hidden = part.dataset.while.split(' ').indexOf(s.status) < 0;
      });
      // Publication raised the version; the forms take it over so that the next save is not refused.
      if (s.version) document.querySelectorAll('input[name="version"]').forEach(function (input) { input.value = s.version; });
      if (s.changed && changed) changed.hidden = false;
    });
    source.addEventListener('counts', function (event) {
      var c = JSON.parse(event.data);
      if (bar) { bar.max = Math.max(c.total, 1); bar.value = c.sent; }
      if (counts) counts.textContent = counts.dataset.template.replace(/\{(\w+)\}/g, function (whole, name) { return name in c ? c[name] : whole; });
      if (Date.now() - refreshed > 5000) refresh();
    });
    source.addEventListener('done', function () {
      source.close();
      refresh();
    });
    // A dropped connection is retried by EventSource itself; a refused one (signed out) ends it.
  }

  document.querySelectorAll('[data-tabs]').forEach(tabs);
  document.querySelectorAll('[data-live]').forEach(live);
  document.querySelectorAll('[data-enter-stays]').forEach(enterStays);
  document.querySelectorAll('textarea.markdown').forEach(preview);
  document.querySelectorAll('input.keywords').forEach(chips);
  document.querySelectorAll('form.upload').forEach(upload);
  document.querySelectorAll('input[type="datetime-local"][data-timezone]').forEach(browserTime);
  var summary = document.querySelector('.error-summary');
  if (summary) summary.focus();
})();
