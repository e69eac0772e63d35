/*
 * Advisor console – small helpers shared by the modules (bot/static/console/*.js).
 *
 * Every text from companies, the bot and advisors is rendered with textContent / text
 * nodes, never as HTML. The modules share one namespace, window.Konsol, and are loaded
 * in order by console.html; console.js starts them.
 */
(function (K) {
  "use strict";

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function timeText(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d.getTime())) {
      return "";
    }
    return d.toLocaleTimeString("sv-SE", { hour: "2-digit", minute: "2-digit" });
  }

  function dateTimeText(iso) {
    var d = iso ? new Date(iso) : null;
    if (!d || isNaN(d.getTime())) {
      return "";
    }
    return d.toLocaleString("sv-SE", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  function waitedText(seconds) {
    var s = Math.max(0, Math.round(seconds || 0));
    if (s < 60) {
      return s + " s";
    }
    var m = Math.floor(s / 60);
    if (m < 60) {
      return m + " min";
    }
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function shortId(id) {
    return String(id || "").slice(0, 6);
  }

  var LINK_RE = /(https?:\/\/[^\s<>"]+)/g;

  /** Appends text with http(s) links built as <a> elements (never parsed as HTML). */
  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var found = match[0].replace(/[.,;:!?)\]]+$/, "");
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      var a = null;
      try {
        var url = new URL(found);
        if (url.protocol === "http:" || url.protocol === "https:") {
          a = el("a", null, found);
          a.href = url.href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
        }
      } catch (e) {
        a = null;
      }
      parent.appendChild(a || document.createTextNode(found));
      last = match.index + found.length;
      LINK_RE.lastIndex = last;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function announce(text) {
    var node = $("announcer");
    node.textContent = "";
    setTimeout(function () {
      node.textContent = text;
    }, 50);
  }

  /** The channel's label ("Webb", "API", "Slack", "Teams") from the session's map. */
  function channelLabel(name) {
    var labels = (K.session && K.session.channels) || {};
    return labels[name] || name || "";
  }

  /** Who the chat is with, as the console shows it in lists and the chat's heading. */
  function chatTitle(c) {
    return (c && (c.company_name || c.display_name)) || "Chatt " + shortId(c && (c.conversation_id || c.id));
  }

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && !/^(checkbox|radio|button|submit)$/.test(target.type));
  }

  K.util = {
    $: $,
    el: el,
    clear: clear,
    newClientId: newClientId,
    timeText: timeText,
    dateTimeText: dateTimeText,
    waitedText: waitedText,
    shortId: shortId,
    appendLinkified: appendLinkified,
    announce: announce,
    channelLabel: channelLabel,
    chatTitle: chatTitle,
    isTyping: isTyping,
  };
})((window.Konsol = window.Konsol || {}));
