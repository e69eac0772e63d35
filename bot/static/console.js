/*
 * Advisor console (bot/templates/console.html) – Västmanlands Företagssupport.
 *
 * The entry point: login and logout, the console WebSocket (docs/gateway-protocol.md,
 * section 5), the advisor's presence and cap, and the wiring of the modules loaded before
 * it from bot/static/console/: util (helpers), api (HTTP API + session), notify (sound,
 * desktop notifications, title count), canned (canned replies), lists (queue, my chats,
 * bot chats, closed chats, tickets), chat (one conversation), shortcuts (keyboard).
 */
(function (K) {
  "use strict";

  var u = K.util;
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  var HEARTBEAT_MS = 25000;
  var MAX_CHATS_CHOICES = 10;

  var ws = null;
  var wsWanted = false;
  var reconnectAttempt = 0;
  var reconnectTimer = null;
  var heartbeatTimer = null;

  // ---------------------------------------------------------------- presence and cap

  function fillMaxChats() {
    var select = u.$("max-chats-select");
    u.clear(select);
    var fallback = (K.session.inbox && K.session.inbox.max_chats_default) || 3;
    var standard = u.el("option", null, "Standard (" + fallback + ")");
    standard.value = "";
    select.appendChild(standard);
    for (var n = 1; n <= MAX_CHATS_CHOICES; n++) {
      var opt = u.el("option", null, String(n));
      opt.value = String(n);
      select.appendChild(opt);
    }
  }

  K.presence = {
    own: null, // the advisor's own cap (null: the default)
    render: function (me) {
      u.$("presence-select").value = me.presence === "away" ? "away" : "available";
      u.$("my-load").textContent = me.chats + " av " + me.max_chats + " chattar";
      u.$("user-bar").classList.toggle("is-away", me.presence === "away");
    },
  };

  function savePresence(body) {
    return K.api
      .post("/presence", body)
      .then(function (data) {
        var me = data.me;
        u.$("max-chats-select").value = me.own_max_chats ? String(me.own_max_chats) : "";
        K.presence.render(me);
        u.announce(
          (me.presence === "away" ? "Du är borta: du får inga nya chattar." : "Du är tillgänglig.") +
            " Högst " + me.max_chats + " chattar samtidigt."
        );
      })
      .catch(function (err) {
        u.announce(err.message);
      });
  }

  function loadPresence() {
    K.api
      .get("/advisors")
      .then(function (data) {
        var me = (data.advisors || []).find(function (a) {
          return K.session.advisor && a.id === K.session.advisor.id;
        });
        if (me) {
          u.$("max-chats-select").value = me.own_max_chats ? String(me.own_max_chats) : "";
          K.presence.render(me);
        }
      })
      .catch(function () {});
  }

  // ---------------------------------------------------------------- login / logout

  function showLogin(message) {
    u.$("workspace").hidden = true;
    u.$("user-bar").hidden = true;
    u.$("login-view").hidden = false;
    u.$("login-error").textContent = message || "";
    u.$("login-password").value = "";
    u.$("login-username").focus();
  }

  function fillOutcomes() {
    var select = u.$("outcome-select");
    u.clear(select);
    K.session.outcomes.forEach(function (o) {
      var opt = u.el("option", null, o.label);
      opt.value = o.code;
      select.appendChild(opt);
    });
  }

  function showWorkspace() {
    u.$("login-view").hidden = true;
    u.$("workspace").hidden = false;
    u.$("user-bar").hidden = false;
    u.$("advisor-name").textContent = K.session.advisor ? K.session.advisor.name : "";
    fillOutcomes();
    fillMaxChats();
    connectWs();
    K.lists.loadQueue();
    K.lists.selectTab("tab-bot", false);
    K.lists.loadTickets();
    loadPresence();
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
    K.chat.reset();
    K.lists.reset();
    K.api.get("/session").then(K.api.applySession).catch(function () {});
    showLogin(message);
  }

  K.api.onUnauthorized(onLoggedOut);

  u.$("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    K.notify.ensureAudio();
    var email = u.$("login-username").value.trim();
    var password = u.$("login-password").value;
    if (!email || !password) {
      u.$("login-error").textContent = "Fyll i e-postadress och lösenord.";
      (email ? u.$("login-password") : u.$("login-username")).focus();
      return;
    }
    u.$("login-submit").disabled = true;
    u.$("login-error").textContent = "";
    var attempt = function () {
      return K.api.post("/login", { email: email, password: password });
    };
    attempt()
      .catch(function (err) {
        if (err.code === "csrf_failed") {
          // The token changed (e.g. logged out in another tab): fetch a fresh one once.
          return K.api.get("/session").then(function (data) {
            K.api.applySession(data);
            return attempt();
          });
        }
        throw err;
      })
      .then(function (data) {
        K.api.applySession(data);
        u.$("login-password").value = "";
        showWorkspace();
        u.$("arbetsyta").focus();
      })
      .catch(function (err) {
        u.$("login-error").textContent = err.message;
        u.$("login-password").focus();
      })
      .then(function () {
        u.$("login-submit").disabled = false;
      });
  });

  u.$("logout").addEventListener("click", function () {
    K.api
      .post("/logout", {})
      .then(K.api.applySession)
      .catch(function () {})
      .then(function () {
        onLoggedOut("Du är utloggad.");
      });
  });

  u.$("presence-select").addEventListener("change", function () {
    savePresence({ presence: u.$("presence-select").value });
  });

  u.$("max-chats-select").addEventListener("change", function () {
    var value = u.$("max-chats-select").value;
    savePresence({ max_chats: value ? parseInt(value, 10) : null });
  });

  // ---------------------------------------------------------------- WebSocket

  function setConn(online, text) {
    u.$("conn-status").classList.toggle("is-online", online);
    u.$("conn-text").textContent = text;
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
      encodeURIComponent(K.session.csrf || "");
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
      K.api
        .get("/session")
        .then(function (data) {
          K.api.applySession(data);
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

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && wsWanted && !ws) {
      reconnectNow();
    }
  });

  K.ws = {
    send: function (frame) {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        return false;
      }
      try {
        ws.send(JSON.stringify(frame));
        return true;
      } catch (e) {
        return false;
      }
    },
  };

  function onCompanyMessage(frame) {
    var m = frame.message;
    if (!m || m.role !== "user" || !K.lists.isMine(frame.conversation_id)) {
      return;
    }
    var watching = K.chat.currentId() === frame.conversation_id && !document.hidden;
    if (!watching) {
      K.notify.event("reply", "Nytt svar i din chatt", m.text || "", {
        tag: "vfs-reply-" + frame.conversation_id,
        onClick: function () {
          K.chat.open(frame.conversation_id);
        },
      });
    }
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "hello":
        reconnectAttempt = 0;
        setConn(true, "Ansluten");
        if (frame.advisor && frame.advisor.name) {
          u.$("advisor-name").textContent = frame.advisor.name;
        }
        clearInterval(heartbeatTimer);
        heartbeatTimer = setInterval(function () {
          K.ws.send({ type: "ping" });
        }, HEARTBEAT_MS);
        if (K.chat.currentId()) {
          K.chat.catchUp();
        }
        break;
      case "queue":
        K.lists.onQueue(frame);
        break;
      case "message":
        K.chat.onMessage(frame);
        onCompanyMessage(frame);
        break;
      case "conversation":
        K.chat.onConversation(frame.conversation);
        break;
      case "typing":
        K.chat.onTyping(frame);
        break;
      case "tickets":
        K.lists.loadTickets();
        break;
      case "transfer":
        if (K.session.advisor && frame.to && frame.to.id === K.session.advisor.id) {
          K.notify.event(
            "newChat",
            (frame.from ? frame.from.name : "En kollega") + " har lämnat över en chatt till dig",
            frame.note || "",
            {
              tag: "vfs-transfer-" + frame.conversation_id,
              onClick: function () {
                K.chat.open(frame.conversation_id);
              },
            }
          );
        }
        break;
      case "transcript_email":
        K.chat.onTranscriptEmail(frame);
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- start

  K.notify.init();
  K.canned.init();
  K.lists.init();
  K.chat.init();
  K.shortcuts.init();

  K.api
    .get("/session")
    .then(function (data) {
      K.api.applySession(data);
      if (data.authenticated) {
        showWorkspace();
      } else {
        showLogin("");
      }
    })
    .catch(function (err) {
      showLogin(err.message);
    });
})((window.Konsol = window.Konsol || {}));
