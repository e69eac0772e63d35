/*
 * Advisor console – notifications: a sound, a desktop notification and a count in the
 * tab's title, each switchable per kind of event (a new chat in the queue, a reply in one
 * of my chats, a chat that has waited too long). The choices live in localStorage.
 */
(function (K) {
  "use strict";

  var u = K.util;
  var STORE = "vfs-console:notify:v1";
  var KINDS = [
    { key: "newChat", label: "Ny chatt i kön" },
    { key: "reply", label: "Svar i mina chattar" },
    { key: "longWait", label: "Chatt som väntat länge i kön" },
  ];
  var MEDIA = [
    { key: "sound", label: "Ljud" },
    { key: "desktop", label: "Skrivbordsavisering" },
    { key: "title", label: "Räknare i fliken" },
  ];

  var prefs = load();
  var audioCtx = null;
  var baseTitle = document.title;
  var unseen = 0;

  function defaults() {
    var out = {};
    KINDS.forEach(function (k) {
      out[k.key] = { sound: true, desktop: true, title: true };
    });
    return out;
  }

  function load() {
    var out = defaults();
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      KINDS.forEach(function (k) {
        MEDIA.forEach(function (m) {
          if (saved[k.key] && typeof saved[k.key][m.key] === "boolean") {
            out[k.key][m.key] = saved[k.key][m.key];
          }
        });
      });
    } catch (e) {
      /* defaults */
    }
    return out;
  }

  function save() {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(prefs));
    } catch (e) {
      /* private mode: the choice lasts for this page view */
    }
  }

  // ---------------------------------------------------------------- sound

  function ensureAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) {
      return null;
    }
    if (!audioCtx) {
      try {
        audioCtx = new Ctx();
      } catch (e) {
        audioCtx = null;
      }
    }
    if (audioCtx && audioCtx.state === "suspended") {
      audioCtx.resume().catch(function () {});
    }
    return audioCtx;
  }

  // Browsers start audio only after a user gesture: unlock on the first one.
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, ensureAudio, { once: true, capture: true });
  });

  function beep(high) {
    var ctx = ensureAudio();
    if (!ctx) {
      return;
    }
    try {
      var start = ctx.currentTime + 0.01;
      [0, 0.22].forEach(function (offset, i) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = (i === 0 ? 880 : 1175) * (high ? 1.25 : 1);
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.18);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.2);
      });
    } catch (e) {
      /* sound is a courtesy */
    }
  }

  // ---------------------------------------------------------------- desktop + title

  function supported() {
    return typeof window.Notification === "function";
  }

  function desktop(title, body, tag, onClick) {
    if (!supported() || window.Notification.permission !== "granted") {
      return;
    }
    try {
      var n = new window.Notification(title, { body: (body || "").slice(0, 180), tag: tag, lang: "sv" });
      n.onclick = function () {
        window.focus();
        if (onClick) {
          onClick();
        }
        n.close();
      };
    } catch (e) {
      /* some platforms only allow notifications from a service worker */
    }
  }

  function renderTitle() {
    document.title = unseen > 0 ? "(" + unseen + ") " + baseTitle : baseTitle;
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      unseen = 0;
      renderTitle();
    }
  });

  /**
   * Something happened that the advisor may want to know: `kind` is newChat, reply or
   * longWait. Screen readers always hear it (a polite announcement).
   */
  function event(kind, title, body, options) {
    var p = prefs[kind] || {};
    var opts = options || {};
    u.announce(title + (body ? ". " + body : ""));
    if (p.sound) {
      beep(kind === "longWait");
    }
    if (p.desktop) {
      desktop(title, body, opts.tag, opts.onClick);
    }
    if (p.title && document.hidden) {
      unseen += 1;
      renderTitle();
    }
  }

  // ---------------------------------------------------------------- the settings dialog

  function permissionText() {
    var node = u.$("notify-permission-text");
    var button = u.$("notify-toggle");
    if (!supported()) {
      node.textContent = "Webbläsaren kan inte visa skrivbordsaviseringar.";
      button.hidden = true;
      return;
    }
    var state = window.Notification.permission;
    button.hidden = state !== "default";
    node.textContent =
      state === "granted"
        ? "Skrivbordsaviseringar är tillåtna."
        : state === "denied"
          ? "Skrivbordsaviseringar är blockerade i webbläsaren."
          : "Webbläsaren frågar om lov första gången.";
  }

  function buildRows() {
    var body = u.$("notify-rows");
    u.clear(body);
    KINDS.forEach(function (k) {
      var row = u.el("tr");
      var label = k.label;
      if (k.key === "longWait") {
        var minutes = Math.round(((K.session.inbox || {}).queue_wait_alert_seconds || 180) / 60);
        label += " (över " + minutes + " min)";
      }
      row.appendChild(u.el("th", null, label)).setAttribute("scope", "row");
      MEDIA.forEach(function (m) {
        var cell = u.el("td");
        var box = u.el("input");
        box.type = "checkbox";
        box.checked = !!prefs[k.key][m.key];
        box.setAttribute("aria-label", m.label + " vid " + k.label.charAt(0).toLowerCase() + k.label.slice(1));
        box.addEventListener("change", function () {
          prefs[k.key][m.key] = box.checked;
          save();
        });
        cell.appendChild(box);
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
  }

  function openDialog() {
    ensureAudio();
    buildRows();
    permissionText();
    u.$("notify-dialog").showModal();
  }

  function init() {
    u.$("notify-settings").addEventListener("click", openDialog);
    u.$("notify-close").addEventListener("click", function () {
      u.$("notify-dialog").close();
      u.$("notify-settings").focus();
    });
    u.$("notify-toggle").addEventListener("click", function () {
      if (!supported()) {
        return;
      }
      try {
        var result = window.Notification.requestPermission(permissionText);
        if (result && typeof result.then === "function") {
          result.then(permissionText);
        }
      } catch (e) {
        permissionText();
      }
    });
  }

  K.notify = {
    init: init,
    event: event,
    ensureAudio: ensureAudio,
    prefs: function () {
      return prefs;
    },
  };
})((window.Konsol = window.Konsol || {}));
