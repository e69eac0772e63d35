/*
 * Advisor console (bot/templates/console.html) – Västmanlands Företagssupport.
 *
 * Talks to the gateway's console API and console WebSocket (docs/gateway-protocol.md,
 * sections 4 and 5). Every text from companies, the bot and advisors is rendered with
 * textContent / text nodes, never as HTML.
 */
(function () {
  "use strict";

  var API = "/console/api";
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  var TYPING_SEND_EVERY_MS = 2000;
  var TYPING_HIDE_AFTER_MS = 10000;
  var HEARTBEAT_MS = 25000;

  var STATE_TEXT = {
    bot: "Boten svarar",
    queued: "I kö",
    advisor: "Hos rådgivare",
    offline: "Utanför öppettid",
    closed: "Avslutad",
  };

  var DEFAULT_OUTCOMES = [
    { code: "resolved", label: "Löst" },
    { code: "referred", label: "Hänvisad vidare" },
    { code: "callback", label: "Återkoppling bokad" },
    { code: "no_response", label: "Inget svar från företaget" },
    { code: "other", label: "Annat" },
  ];

  function $(id) {
    return document.getElementById(id);
  }

  var ui = {
    userBar: $("user-bar"),
    connStatus: $("conn-status"),
    connText: $("conn-text"),
    notifyToggle: $("notify-toggle"),
    advisorName: $("advisor-name"),
    logout: $("logout"),
    loginView: $("login-view"),
    loginForm: $("login-form"),
    loginUser: $("login-username"),
    loginPassword: $("login-password"),
    loginError: $("login-error"),
    loginSubmit: $("login-submit"),
    workspace: $("workspace"),
    queueList: $("queue-list"),
    queueCount: $("queue-count"),
    queueEmpty: $("queue-empty"),
    mineList: $("mine-list"),
    mineCount: $("mine-count"),
    mineEmpty: $("mine-empty"),
    ticketsList: $("tickets-list"),
    ticketsCount: $("tickets-count"),
    ticketsEmpty: $("tickets-empty"),
    ticketsRefresh: $("tickets-refresh"),
    placeholder: $("chat-placeholder"),
    chatActive: $("chat-active"),
    chatTitle: $("chat-rubrik"),
    chatMeta: $("chat-meta"),
    claim: $("claim-button"),
    handback: $("handback-button"),
    closeForm: $("close-form"),
    outcome: $("outcome-select"),
    transcript: $("transcript"),
    typing: $("typing"),
    replyForm: $("reply-form"),
    replyInput: $("reply-input"),
    replySend: $("reply-send"),
    summaryBody: $("summary-body"),
    announcer: $("announcer"),
  };

  var session = { csrf: null, advisor: null, outcomes: DEFAULT_OUTCOMES };
  var queueState = { queue: [], mine: [], open_tickets: 0 };
  var knownQueued = null; // conversation ids in the last queue snapshot (null before the first)
  var current = null; // {id, conversation, maxSeq, fetching}
  var ws = null;
  var wsWanted = false;
  var reconnectAttempt = 0;
  var reconnectTimer = null;
  var heartbeatTimer = null;
  var typingHideTimer = null;
  var typingSentAt = 0;
  var typingSent = false;
  var pendingReply = null; // {client_id, text}
  var audioCtx = null;
  var baseTitle = document.title;
  var unseen = 0;

  // ---------------------------------------------------------------- helpers

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
    return d.toLocaleString("sv-SE", {
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
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
    ui.announcer.textContent = "";
    setTimeout(function () {
      ui.announcer.textContent = text;
    }, 50);
  }

  // ---------------------------------------------------------------- API

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (session.csrf) {
        headers["X-CSRF-Token"] = session.csrf;
      }
    }
    return fetch(API + path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
    }).then(
      function (res) {
        return res
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (res.ok) {
              return data;
            }
            var err = (data && data.error) || {};
            if (res.status === 401 && path !== "/login") {
              onLoggedOut(err.message || "Du måste logga in.");
            }
            throw new ApiError(
              res.status,
              err.code || "http_" + res.status,
              err.message || "Något gick fel (" + res.status + "). Försök igen."
            );
          });
      },
      function () {
        throw new ApiError(0, "network", "Kunde inte nå servern. Kontrollera anslutningen.");
      }
    );
  }

  function applySession(data) {
    session.csrf = data.csrf_token || session.csrf;
    session.advisor = data.advisor || null;
    if (Array.isArray(data.outcomes) && data.outcomes.length) {
      session.outcomes = data.outcomes;
    }
  }

  // ---------------------------------------------------------------- sound + notifications

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

  function beep() {
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
        osc.frequency.value = i === 0 ? 880 : 1175;
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

  function notificationsSupported() {
    return typeof window.Notification === "function";
  }

  function updateNotifyToggle() {
    if (!notificationsSupported()) {
      ui.notifyToggle.hidden = true;
      return;
    }
    var p = window.Notification.permission;
    ui.notifyToggle.hidden = p !== "default";
  }

  ui.notifyToggle.addEventListener("click", function () {
    ensureAudio();
    if (!notificationsSupported()) {
      return;
    }
    try {
      var result = window.Notification.requestPermission(updateNotifyToggle);
      if (result && typeof result.then === "function") {
        result.then(updateNotifyToggle);
      }
    } catch (e) {
      updateNotifyToggle();
    }
  });

  function notifyNewChat(entry) {
    beep();
    var body = (entry && (entry.reason_text || "")) + (entry && entry.preview ? ": " + entry.preview : "");
    announce("Ny chatt i kön. " + body);
    if (document.hidden) {
      unseen += 1;
      document.title = "(" + unseen + ") " + baseTitle;
    }
    if (notificationsSupported() && window.Notification.permission === "granted") {
      try {
        var n = new window.Notification("Ny chatt i kön", {
          body: body.slice(0, 180),
          tag: "vfs-queue-" + (entry ? entry.conversation_id : ""),
          lang: "sv",
        });
        n.onclick = function () {
          window.focus();
          if (entry) {
            openConversation(entry.conversation_id);
          }
          n.close();
        };
      } catch (e) {
        /* some platforms only allow notifications from a service worker */
      }
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      unseen = 0;
      document.title = baseTitle;
      if (wsWanted && !ws) {
        reconnectNow();
      }
    }
  });

  // ---------------------------------------------------------------- login / logout

  function showLogin(message) {
    ui.workspace.hidden = true;
    ui.userBar.hidden = true;
    ui.loginView.hidden = false;
    ui.loginError.textContent = message || "";
    ui.loginPassword.value = "";
    ui.loginUser.focus();
  }

  function showWorkspace() {
    ui.loginView.hidden = true;
    ui.workspace.hidden = false;
    ui.userBar.hidden = false;
    ui.advisorName.textContent = session.advisor ? session.advisor.name : "";
    fillOutcomes();
    updateNotifyToggle();
    connectWs();
    loadQueue();
    loadTickets();
  }

  function fillOutcomes() {
    clear(ui.outcome);
    session.outcomes.forEach(function (o) {
      var opt = el("option", null, o.label);
      opt.value = o.code;
      ui.outcome.appendChild(opt);
    });
  }

  function onLoggedOut(message) {
    wsWanted = false;
    if (ws) {
      try {
        ws.close();
      } catch (e) {
        /* ignore */
      }
    }
    ws = null;
    current = null;
    knownQueued = null;
    api("GET", "/session")
      .then(applySession)
      .catch(function () {});
    showLogin(message);
  }

  ui.loginForm.addEventListener("submit", function (event) {
    event.preventDefault();
    ensureAudio();
    var email = ui.loginUser.value.trim();
    var password = ui.loginPassword.value;
    if (!email || !password) {
      ui.loginError.textContent = "Fyll i e-postadress och lösenord.";
      (email ? ui.loginPassword : ui.loginUser).focus();
      return;
    }
    ui.loginSubmit.disabled = true;
    ui.loginError.textContent = "";
    var attempt = function () {
      return api("POST", "/login", { email: email, password: password });
    };
    attempt()
      .catch(function (err) {
        if (err.code === "csrf_failed") {
          // The token changed (e.g. logged out in another tab): fetch a fresh one once.
          return api("GET", "/session").then(function (data) {
            applySession(data);
            return attempt();
          });
        }
        throw err;
      })
      .then(function (data) {
        applySession(data);
        ui.loginPassword.value = "";
        showWorkspace();
        $("arbetsyta").focus();
      })
      .catch(function (err) {
        ui.loginError.textContent = err.message;
        ui.loginPassword.focus();
      })
      .then(function () {
        ui.loginSubmit.disabled = false;
      });
  });

  ui.logout.addEventListener("click", function () {
    api("POST", "/logout", {})
      .then(applySession)
      .catch(function () {})
      .then(function () {
        onLoggedOut("Du är utloggad.");
      });
  });

  // ---------------------------------------------------------------- WebSocket

  function setConn(online, text) {
    ui.connStatus.classList.toggle("is-online", online);
    ui.connText.textContent = text;
  }

  function connectWs() {
    wsWanted = true;
    if (ws || reconnectTimer) {
      return;
    }
    openWs();
  }

  function openWs() {
    reconnectTimer = null;
    var url =
      (window.location.protocol === "https:" ? "wss://" : "ws://") +
      window.location.host +
      "/console/ws?csrf=" +
      encodeURIComponent(session.csrf || "");
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = socket;
    setConn(false, "Ansluter …");
    socket.addEventListener("message", function (event) {
      if (ws !== socket) {
        return;
      }
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      handleFrame(frame);
    });
    socket.addEventListener("close", function () {
      if (ws !== socket) {
        return;
      }
      ws = null;
      clearInterval(heartbeatTimer);
      setConn(false, "Frånkopplad – försöker igen …");
      if (!wsWanted) {
        return;
      }
      // A refused handshake may mean that the session ended: ask before retrying.
      api("GET", "/session")
        .then(function (data) {
          applySession(data);
          if (!data.authenticated) {
            onLoggedOut("Din inloggning har gått ut. Logga in igen.");
            return;
          }
          scheduleReconnect();
        })
        .catch(function () {
          scheduleReconnect();
        });
    });
  }

  function scheduleReconnect() {
    if (!wsWanted || reconnectTimer || ws) {
      return;
    }
    var base = BACKOFF_MS[Math.min(reconnectAttempt, BACKOFF_MS.length - 1)];
    reconnectAttempt += 1;
    reconnectTimer = setTimeout(openWs, Math.round(base * (0.8 + Math.random() * 0.4)));
  }

  function reconnectNow() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    reconnectAttempt = 0;
    if (!ws) {
      openWs();
    }
  }

  window.addEventListener("online", function () {
    if (wsWanted) {
      reconnectNow();
    }
  });

  function wsSend(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return false;
    }
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "hello":
        reconnectAttempt = 0;
        setConn(true, "Ansluten");
        if (frame.advisor && frame.advisor.name) {
          ui.advisorName.textContent = frame.advisor.name;
        }
        clearInterval(heartbeatTimer);
        heartbeatTimer = setInterval(function () {
          wsSend({ type: "ping" });
        }, HEARTBEAT_MS);
        if (current) {
          catchUp();
        }
        break;
      case "queue":
        onQueue(frame);
        break;
      case "message":
        if (current && frame.conversation_id === current.id && frame.message) {
          addMessage(frame.message);
        }
        break;
      case "conversation":
        if (current && frame.conversation && frame.conversation.id === current.id) {
          current.conversation = frame.conversation;
          renderChatHead();
          renderSummary();
        }
        break;
      case "typing":
        if (current && frame.conversation_id === current.id && frame.role === "user") {
          if (frame.typing) {
            showTyping();
          } else {
            hideTyping();
          }
        }
        break;
      case "tickets":
        if (typeof frame.open_tickets === "number") {
          setCount(ui.ticketsCount, frame.open_tickets);
        }
        loadTickets();
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- queue + lists

  function loadQueue() {
    return api("GET", "/queue")
      .then(function (data) {
        onQueue(data);
      })
      .catch(function () {});
  }

  function setCount(node, n) {
    node.textContent = String(n);
    node.classList.toggle("is-hot", node === ui.queueCount && n > 0);
  }

  function onQueue(data) {
    var queue = Array.isArray(data.queue) ? data.queue : [];
    var mine = Array.isArray(data.mine) ? data.mine : [];
    var ids = {};
    queue.forEach(function (q) {
      ids[q.conversation_id] = true;
    });
    var newcomers = [];
    if (knownQueued !== null) {
      queue.forEach(function (q) {
        if (!knownQueued[q.conversation_id]) {
          newcomers.push(q);
        }
      });
    }
    var cue = data.event === "enqueued" || data.event === "returned";
    if (newcomers.length && (cue || !data.event)) {
      notifyNewChat(newcomers[0]);
    }
    knownQueued = ids;
    queueState.queue = queue;
    queueState.mine = mine;
    if (typeof data.open_tickets === "number") {
      setCount(ui.ticketsCount, data.open_tickets);
    }
    renderLists(newcomers);
  }

  function chatButton(id, titleText, lines, isNew) {
    var li = el("li");
    var btn = el("button", "chat-item" + (isNew ? " is-new" : ""));
    btn.type = "button";
    btn.setAttribute("data-conversation-id", id);
    if (current && current.id === id) {
      btn.setAttribute("aria-current", "true");
    }
    btn.appendChild(el("span", "chat-item-title", titleText));
    lines.forEach(function (line) {
      if (line && line.text) {
        btn.appendChild(el("span", line.cls, line.text));
      }
    });
    btn.addEventListener("click", function () {
      openConversation(id);
    });
    li.appendChild(btn);
    return li;
  }

  function renderLists(newcomers) {
    // Re-rendering replaces the buttons: keep keyboard focus on the chat it was on.
    var focusedId =
      document.activeElement && document.activeElement.getAttribute
        ? document.activeElement.getAttribute("data-conversation-id")
        : null;
    var fresh = {};
    (newcomers || []).forEach(function (q) {
      fresh[q.conversation_id] = true;
    });
    clear(ui.queueList);
    queueState.queue.forEach(function (q) {
      var title = (q.position ? q.position + ". " : "") + (q.reason_text || "Vill prata med en rådgivare");
      var meta = "Väntat " + waitedText(q.waited_seconds) + (q.returned ? " · tillbaka i kön" : "");
      ui.queueList.appendChild(
        chatButton(
          q.conversation_id,
          title,
          [
            { cls: "chat-item-text", text: q.preview || "" },
            { cls: "chat-item-meta", text: meta },
          ],
          fresh[q.conversation_id]
        )
      );
    });
    setCount(ui.queueCount, queueState.queue.length);
    ui.queueEmpty.hidden = queueState.queue.length > 0;

    clear(ui.mineList);
    queueState.mine.forEach(function (c) {
      ui.mineList.appendChild(
        chatButton(
          c.conversation_id,
          "Chatt " + shortId(c.conversation_id),
          [
            { cls: "chat-item-text", text: c.preview || "" },
            { cls: "chat-item-meta", text: c.claimed_at ? "Tagen " + timeText(c.claimed_at) : "" },
          ],
          false
        )
      );
    });
    setCount(ui.mineCount, queueState.mine.length);
    ui.mineEmpty.hidden = queueState.mine.length > 0;
    if (focusedId) {
      var again = document.querySelector('.chat-item[data-conversation-id="' + CSS.escape(focusedId) + '"]');
      if (again) {
        again.focus();
      }
    }
  }

  // ---------------------------------------------------------------- tickets

  function loadTickets() {
    return api("GET", "/tickets?status=open")
      .then(function (data) {
        renderTickets(Array.isArray(data.tickets) ? data.tickets : []);
      })
      .catch(function () {});
  }

  function renderTickets(tickets) {
    clear(ui.ticketsList);
    tickets.forEach(function (t) {
      var li = el("li", "ticket-item");
      li.setAttribute("data-ticket-id", String(t.id));
      var who = [t.name, t.company].filter(Boolean).join(", ") || "Okänd avsändare";
      li.appendChild(el("p", "chat-item-title", "Ärende " + t.id + " – " + who));
      li.appendChild(el("p", "chat-item-meta", dateTimeText(t.created_at)));
      li.appendChild(el("p", "ticket-question", t.question || ""));
      var contact = el("p", "ticket-contact");
      if (t.email) {
        var mail = el("a", null, t.email);
        mail.href = "mailto:" + t.email;
        contact.appendChild(mail);
      }
      if (t.email && t.phone) {
        contact.appendChild(document.createTextNode(" · "));
      }
      if (t.phone) {
        var tel = el("a", null, t.phone);
        tel.href = "tel:" + t.phone.replace(/[^0-9+]/g, "");
        contact.appendChild(tel);
      }
      li.appendChild(contact);
      var done = el("button", "secondary small", "Markera som hanterat");
      done.type = "button";
      done.setAttribute("aria-label", "Markera ärende " + t.id + " som hanterat");
      done.addEventListener("click", function () {
        done.disabled = true;
        api("POST", "/tickets/" + encodeURIComponent(t.id) + "/done", {})
          .then(function () {
            announce("Ärende " + t.id + " är markerat som hanterat.");
            loadTickets();
          })
          .catch(function (err) {
            done.disabled = false;
            announce(err.message);
          });
      });
      li.appendChild(done);
      ui.ticketsList.appendChild(li);
    });
    setCount(ui.ticketsCount, tickets.length);
    ui.ticketsEmpty.hidden = tickets.length > 0;
  }

  ui.ticketsRefresh.addEventListener("click", loadTickets);

  // ---------------------------------------------------------------- one conversation

  function isMine() {
    var c = current && current.conversation;
    return !!(
      c &&
      c.state === "advisor" &&
      c.advisor &&
      session.advisor &&
      c.advisor.id === session.advisor.id
    );
  }

  function openConversation(id) {
    if (current && current.id !== id) {
      stopTyping();
    }
    current = { id: id, conversation: null, maxSeq: 0, fetching: false };
    pendingReply = null;
    hideTyping();
    clear(ui.transcript);
    ui.placeholder.hidden = true;
    ui.chatActive.hidden = false;
    ui.chatTitle.textContent = "Chatt " + shortId(id);
    ui.chatMeta.textContent = "Hämtar …";
    markCurrentInLists();
    return api("GET", "/conversations/" + encodeURIComponent(id))
      .then(function (data) {
        if (!current || current.id !== id) {
          return;
        }
        showConversation(data);
      })
      .catch(function (err) {
        if (current && current.id === id) {
          ui.chatMeta.textContent = err.message;
        }
      });
  }

  function showConversation(data) {
    current.conversation = data.conversation;
    (data.messages || []).forEach(addMessage);
    renderChatHead();
    renderSummary();
  }

  function markCurrentInLists() {
    Array.prototype.forEach.call(document.querySelectorAll(".chat-item"), function (b) {
      if (current && b.getAttribute("data-conversation-id") === current.id) {
        b.setAttribute("aria-current", "true");
      } else {
        b.removeAttribute("aria-current");
      }
    });
  }

  function renderChatHead() {
    var c = current && current.conversation;
    if (!c) {
      return;
    }
    ui.chatTitle.textContent = "Chatt " + shortId(c.id);
    var meta = [STATE_TEXT[c.state] || c.state];
    if (c.state === "advisor" && c.advisor) {
      meta[0] = isMine() ? "Din chatt" : "Hos " + c.advisor.name;
    }
    if (c.created_at) {
      meta.push("startad " + dateTimeText(c.created_at));
    }
    if (c.page) {
      meta.push("från " + c.page);
    }
    ui.chatMeta.textContent = meta.join(" · ");

    var mine = isMine();
    var claimable = c.state === "queued" || c.state === "bot" || c.state === "offline";
    ui.claim.hidden = !claimable;
    ui.claim.textContent = c.state === "queued" ? "Ta chatten" : "Ta över chatten";
    ui.handback.hidden = !mine;
    ui.closeForm.hidden = !mine;
    ui.replyForm.hidden = !mine;
    if (!mine) {
      hideTyping();
    }
  }

  function summaryList(items, ordered) {
    var list = el(ordered ? "ol" : "ul");
    items.forEach(function (t) {
      list.appendChild(el("li", null, String(t)));
    });
    return list;
  }

  function renderSummary() {
    var c = current && current.conversation;
    clear(ui.summaryBody);
    if (!c) {
      return;
    }
    var s = c.summary;
    if (c.handoff_reason) {
      ui.summaryBody.appendChild(el("h3", null, "Orsak"));
      var reasonText = {
        request_human: "Bad om en rådgivare",
        complaint: "Klagomål",
        fallback: "Boten förstod inte",
        bot_unavailable: "Boten svarade inte",
      }[c.handoff_reason] || c.handoff_reason;
      ui.summaryBody.appendChild(el("p", null, reasonText));
    }
    if (!s) {
      ui.summaryBody.appendChild(el("p", "muted", "Boten har ingen sammanfattning av den här chatten."));
      return;
    }
    if (s.text) {
      ui.summaryBody.appendChild(el("h3", null, "Sammanfattning"));
      ui.summaryBody.appendChild(el("p", null, s.text));
    }
    ui.summaryBody.appendChild(el("h3", null, "Vad företaget frågade"));
    if (Array.isArray(s.asked) && s.asked.length) {
      var asked = el("ul", "asked");
      s.asked.forEach(function (q) {
        var li = el("li");
        li.appendChild(el("p", "quote", String(q)));
        asked.appendChild(li);
      });
      ui.summaryBody.appendChild(asked);
    } else {
      ui.summaryBody.appendChild(el("p", "muted", "–"));
    }
    ui.summaryBody.appendChild(el("h3", null, "Vad boten förstod"));
    if (Array.isArray(s.understood) && s.understood.length) {
      var tags = el("p", "tags");
      s.understood.forEach(function (u, i) {
        if (i) {
          tags.appendChild(document.createTextNode(" "));
        }
        tags.appendChild(el("span", "tag", String(u)));
      });
      ui.summaryBody.appendChild(tags);
    } else {
      ui.summaryBody.appendChild(el("p", "muted", "Inget säkert ämne."));
    }
    ui.summaryBody.appendChild(el("h3", null, "Hänvisningar som boten redan gett"));
    if (Array.isArray(s.targets_given) && s.targets_given.length) {
      ui.summaryBody.appendChild(summaryList(s.targets_given, true));
    } else {
      ui.summaryBody.appendChild(el("p", "muted", "Inga ännu."));
    }
  }

  function whoLabel(m) {
    if (m.role === "user") {
      return "Företaget";
    }
    if (m.role === "bot") {
      return "Digital assistent";
    }
    if (m.role === "advisor") {
      return m.author || "Rådgivare";
    }
    return "System";
  }

  function buildMessage(m) {
    var item = el("div", "msg msg-" + m.role);
    item.setAttribute("data-seq", String(m.seq));
    if (m.role !== "system") {
      item.appendChild(el("p", "msg-who", whoLabel(m)));
    }
    if (m.text) {
      var text = el("p", "msg-text");
      if (m.role === "user") {
        text.textContent = m.text;
      } else {
        appendLinkified(text, m.text);
      }
      item.appendChild(text);
    }
    if (Array.isArray(m.buttons) && m.buttons.length) {
      item.appendChild(
        el(
          "p",
          "msg-buttons",
          "Knappar: " +
            m.buttons
              .map(function (b) {
                return b && b.title;
              })
              .filter(Boolean)
              .join(" · ")
        )
      );
    }
    item.appendChild(el("span", "msg-meta", timeText(m.created_at)));
    return item;
  }

  function addMessage(m) {
    if (!current || typeof m.seq !== "number" || m.seq <= current.maxSeq) {
      return;
    }
    if (current.maxSeq && m.seq > current.maxSeq + 1) {
      catchUp();
      return;
    }
    current.maxSeq = m.seq;
    if (m.role === "user") {
      hideTyping();
    }
    var nearBottom =
      ui.transcript.scrollHeight - ui.transcript.scrollTop - ui.transcript.clientHeight < 80;
    ui.transcript.appendChild(buildMessage(m));
    if (nearBottom || m.role === "advisor") {
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
    }
  }

  function catchUp() {
    if (!current || current.fetching) {
      return;
    }
    var id = current.id;
    current.fetching = true;
    var after = current.maxSeq;
    api("GET", "/conversations/" + encodeURIComponent(id) + "/messages?after_seq=" + after)
      .then(function (data) {
        if (current && current.id === id) {
          current.fetching = false;
          (data.messages || []).forEach(addMessage);
        }
      })
      .catch(function () {
        if (current && current.id === id) {
          current.fetching = false;
        }
      });
    // The state may have changed while we were away, too.
    api("GET", "/conversations/" + encodeURIComponent(id))
      .then(function (data) {
        if (current && current.id === id) {
          current.conversation = data.conversation;
          renderChatHead();
          renderSummary();
        }
      })
      .catch(function () {});
  }

  function showTyping() {
    ui.typing.textContent = "Företaget skriver …";
    clearTimeout(typingHideTimer);
    typingHideTimer = setTimeout(hideTyping, TYPING_HIDE_AFTER_MS);
  }

  function hideTyping() {
    clearTimeout(typingHideTimer);
    ui.typing.textContent = "";
  }

  // ---------------------------------------------------------------- actions

  function actionError(err) {
    announce(err.message);
    ui.chatMeta.textContent = err.message;
    if (current) {
      catchUp();
    }
  }

  ui.claim.addEventListener("click", function () {
    if (!current) {
      return;
    }
    var id = current.id;
    ui.claim.disabled = true;
    api("POST", "/conversations/" + encodeURIComponent(id) + "/claim", {})
      .then(function (data) {
        if (current && current.id === id) {
          current.conversation = data.conversation;
          (data.messages || []).forEach(addMessage);
          renderChatHead();
          renderSummary();
          announce("Du har tagit chatten.");
          ui.replyInput.focus();
        }
        loadQueue();
      })
      .catch(actionError)
      .then(function () {
        ui.claim.disabled = false;
      });
  });

  ui.handback.addEventListener("click", function () {
    if (!current) {
      return;
    }
    var id = current.id;
    stopTyping();
    ui.handback.disabled = true;
    api("POST", "/conversations/" + encodeURIComponent(id) + "/handback", {})
      .then(function (data) {
        if (current && current.id === id && data.conversation) {
          current.conversation = data.conversation;
          renderChatHead();
          renderSummary();
        }
        announce("Chatten är tillbaka hos boten.");
        catchUp();
        loadQueue();
      })
      .catch(actionError)
      .then(function () {
        ui.handback.disabled = false;
      });
  });

  ui.closeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) {
      return;
    }
    var id = current.id;
    stopTyping();
    var closeButton = $("close-button");
    closeButton.disabled = true;
    api("POST", "/conversations/" + encodeURIComponent(id) + "/close", {
      outcome: ui.outcome.value,
    })
      .then(function (data) {
        if (current && current.id === id && data && data.conversation) {
          current.conversation = data.conversation;
        }
        announce("Chatten är avslutad.");
        catchUp();
        loadQueue();
      })
      .catch(actionError)
      .then(function () {
        closeButton.disabled = false;
      });
  });

  function sendReply() {
    if (!current || !isMine()) {
      return;
    }
    var text = ui.replyInput.value.trim();
    if (!text) {
      return;
    }
    if (!pendingReply || pendingReply.text !== text || pendingReply.id !== current.id) {
      pendingReply = { client_id: newClientId(), text: text, id: current.id };
    }
    var reply = pendingReply;
    stopTyping();
    ui.replySend.disabled = true;
    api("POST", "/conversations/" + encodeURIComponent(reply.id) + "/messages", {
      client_id: reply.client_id,
      text: reply.text,
    })
      .then(function (data) {
        if (pendingReply === reply) {
          pendingReply = null;
        }
        if (ui.replyInput.value.trim() === reply.text) {
          ui.replyInput.value = "";
        }
        if (current && current.id === reply.id && data && data.message) {
          addMessage(data.message);
        }
      })
      .catch(function (err) {
        // The text stays in the box; sending again reuses the same client_id.
        announce(err.message);
        ui.typing.textContent = err.message;
      })
      .then(function () {
        ui.replySend.disabled = false;
        ui.replyInput.focus();
      });
  }

  ui.replyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    sendReply();
  });

  ui.replyInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendReply();
    }
  });

  function stopTyping() {
    if (typingSent && current) {
      wsSend({ type: "typing", conversation_id: current.id, typing: false });
    }
    typingSent = false;
    typingSentAt = 0;
  }

  ui.replyInput.addEventListener("input", function () {
    if (!current || !isMine()) {
      return;
    }
    if (!ui.replyInput.value.trim()) {
      stopTyping();
      return;
    }
    var now = Date.now();
    if (!typingSent || now - typingSentAt >= TYPING_SEND_EVERY_MS) {
      if (wsSend({ type: "typing", conversation_id: current.id, typing: true })) {
        typingSent = true;
        typingSentAt = now;
      }
    }
  });

  ui.replyInput.addEventListener("blur", stopTyping);

  // Keep the "waited" times in the queue fresh.
  setInterval(function () {
    if (!ui.workspace.hidden && queueState.queue.length) {
      queueState.queue.forEach(function (q) {
        q.waited_seconds = (q.waited_seconds || 0) + 15;
      });
      renderLists([]);
    }
  }, 15000);

  // ---------------------------------------------------------------- start

  api("GET", "/session")
    .then(function (data) {
      applySession(data);
      if (data.authenticated) {
        showWorkspace();
      } else {
        showLogin("");
      }
    })
    .catch(function (err) {
      showLogin(err.message);
    });
})();
