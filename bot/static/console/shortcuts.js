/*
 * Advisor console – keyboard shortcuts. One key each, active only while the advisor is not
 * writing in a field (Esc leaves the reply box), and switchable off in the help dialog
 * (WCAG 2.1.4: character key shortcuts can be turned off).
 */
(function (K) {
  "use strict";

  var u = K.util;
  var STORE = "vfs-console:shortcuts:v1";

  var SHORTCUTS = [
    { keys: ["j", "n"], label: "Nästa chatt", run: function () { step(1); } },
    { keys: ["k", "p"], label: "Föregående chatt", run: function () { step(-1); } },
    { keys: ["t"], label: "Ta chatten (eller ta över den från boten)", run: function () { K.chat.claim(); } },
    { keys: ["a"], label: "Avsluta: välj utfall", run: function () { K.chat.focusClose(); } },
    { keys: ["s"], label: "Skriv i svarsrutan", run: function () { K.chat.focusReply(); } },
    { keys: ["/"], label: "Snabbsvar", run: function () { openCanned(); } },
    { keys: ["?"], label: "Visa kortkommandona", run: function () { openHelp(); } },
  ];

  function enabled() {
    try {
      return window.localStorage.getItem(STORE) !== "off";
    } catch (e) {
      return true;
    }
  }

  function setEnabled(on) {
    try {
      window.localStorage.setItem(STORE, on ? "on" : "off");
    } catch (e) {
      /* this page view only */
    }
  }

  /** Opens the next (or previous) chat in the lists' order. */
  function step(direction) {
    var ids = K.lists.order();
    if (!ids.length) {
      u.announce("Det finns inga chattar i listorna.");
      return;
    }
    var at = ids.indexOf(K.chat.currentId());
    var next = at < 0 ? (direction > 0 ? 0 : ids.length - 1) : (at + direction + ids.length) % ids.length;
    K.chat.open(ids[next]).then(function () {
      var button = document.querySelector('.sidebar .chat-item[data-conversation-id="' + CSS.escape(ids[next]) + '"]');
      if (button) {
        button.focus();
      }
    });
  }

  function openCanned() {
    if (!K.chat.currentId() || !K.chat.isMine()) {
      u.announce("Snabbsvar kan du använda i dina egna chattar.");
      return;
    }
    K.canned.openList();
  }

  function renderHelp() {
    var list = u.$("shortcuts-list");
    u.clear(list);
    SHORTCUTS.forEach(function (s) {
      var dt = u.el("dt");
      s.keys.forEach(function (key, i) {
        if (i) {
          dt.appendChild(document.createTextNode(" eller "));
        }
        dt.appendChild(u.el("kbd", null, key));
      });
      list.appendChild(dt);
      list.appendChild(u.el("dd", null, s.label));
    });
    var esc = u.el("dt");
    esc.appendChild(u.el("kbd", null, "Esc"));
    list.appendChild(esc);
    list.appendChild(u.el("dd", null, "Lämna svarsrutan (så fungerar kortkommandona igen)"));
  }

  function openHelp() {
    renderHelp();
    u.$("shortcuts-enabled").checked = enabled();
    u.$("shortcuts-dialog").showModal();
  }

  function onKeydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
      return;
    }
    if (u.$("workspace").hidden || document.querySelector("dialog[open]") || u.isTyping(event.target)) {
      return;
    }
    if (!enabled() && event.key !== "?") {
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var found = SHORTCUTS.find(function (s) {
      return s.keys.indexOf(key) >= 0;
    });
    if (found) {
      event.preventDefault();
      found.run();
    }
  }

  function init() {
    document.addEventListener("keydown", onKeydown);
    u.$("shortcuts-help").addEventListener("click", openHelp);
    u.$("shortcuts-close").addEventListener("click", function () {
      u.$("shortcuts-dialog").close();
      u.$("shortcuts-help").focus();
    });
    u.$("shortcuts-enabled").addEventListener("change", function () {
      setEnabled(u.$("shortcuts-enabled").checked);
    });
  }

  K.shortcuts = { init: init, open: openHelp };
})((window.Konsol = window.Konsol || {}));
