/*
 * Advisor console – the inbox's lists: the queue and my chats (always shown), and in
 * tabs the bot's chats going on now, closed chats with search, and offline tickets.
 */
(function (K) {
  "use strict";

  var u = K.util;
  var state = { queue: [], mine: [], bot: [], me: null };
  var knownQueued = null; // ids in the last queue snapshot (null before the first)
  var lateAlerted = {}; // conversation ids already alerted for a long wait
  var closedNext = null;
  var advisorsLoaded = false;
  var BOT_REFRESH_MS = 15000;

  // ---------------------------------------------------------------- list items

  function chatButton(id, titleText, lines, extraClass) {
    var li = u.el("li");
    var btn = u.el("button", "chat-item" + (extraClass ? " " + extraClass : ""));
    btn.type = "button";
    btn.setAttribute("data-conversation-id", id);
    if (K.chat.currentId() === id) {
      btn.setAttribute("aria-current", "true");
    }
    btn.appendChild(u.el("span", "chat-item-title", titleText));
    lines.forEach(function (line) {
      if (line && line.text) {
        btn.appendChild(u.el("span", line.cls, line.text));
      }
    });
    btn.addEventListener("click", function () {
      K.chat.open(id);
    });
    li.appendChild(btn);
    return li;
  }

  function whoLine(c) {
    var parts = [];
    if (c.company_name) {
      parts.push(c.company_name);
    }
    if (c.display_name && c.display_name !== c.company_name) {
      parts.push(c.display_name);
    }
    parts.push(u.channelLabel(c.channel));
    return parts.join(" · ");
  }

  function setCount(id, n) {
    var node = u.$(id);
    node.textContent = String(n);
    node.classList.toggle("is-hot", id === "queue-count" && n > 0);
  }

  /** Re-rendering replaces the buttons: keep keyboard focus on the chat it was on. */
  function keepFocus(render) {
    var focused = document.activeElement;
    var id = focused && focused.getAttribute ? focused.getAttribute("data-conversation-id") : null;
    var inList = focused && focused.closest ? focused.closest(".chat-list") : null;
    render();
    if (id && inList) {
      var again = inList.id && u.$(inList.id).querySelector('.chat-item[data-conversation-id="' + CSS.escape(id) + '"]');
      if (again) {
        again.focus();
      }
    }
  }

  // ---------------------------------------------------------------- queue + mine

  function alertThreshold() {
    return (K.session.inbox && K.session.inbox.queue_wait_alert_seconds) || 180;
  }

  function renderQueue(fresh) {
    var list = u.$("queue-list");
    u.clear(list);
    var threshold = alertThreshold();
    state.queue.forEach(function (q) {
      var late = (q.waited_seconds || 0) >= threshold;
      var title = (q.position ? q.position + ". " : "") + (q.reason_text || "Vill prata med en rådgivare");
      var meta = "Väntat " + u.waitedText(q.waited_seconds) + (q.returned ? " · tillbaka i kön" : "");
      var cls = [fresh[q.conversation_id] ? "is-new" : "", late ? "is-late" : ""].join(" ").trim();
      list.appendChild(
        chatButton(
          q.conversation_id,
          title,
          [
            { cls: "chat-item-who", text: whoLine(q) },
            { cls: "chat-item-text", text: q.preview || "" },
            { cls: "chat-item-meta", text: meta + (late ? " · väntat länge" : "") },
          ],
          cls
        )
      );
    });
    setCount("queue-count", state.queue.length);
    u.$("queue-empty").hidden = state.queue.length > 0;
  }

  function renderMine() {
    var list = u.$("mine-list");
    u.clear(list);
    state.mine.forEach(function (c) {
      list.appendChild(
        chatButton(c.conversation_id, u.chatTitle(c), [
          { cls: "chat-item-who", text: u.channelLabel(c.channel) + (c.display_name ? " · " + c.display_name : "") },
          { cls: "chat-item-text", text: c.preview || "" },
          { cls: "chat-item-meta", text: c.claimed_at ? "Tagen " + u.timeText(c.claimed_at) : "" },
        ])
      );
    });
    setCount("mine-count", state.mine.length);
    u.$("mine-empty").hidden = state.mine.length > 0;
  }

  function checkLongWaits() {
    var threshold = alertThreshold();
    state.queue.forEach(function (q) {
      if ((q.waited_seconds || 0) >= threshold && !lateAlerted[q.conversation_id]) {
        lateAlerted[q.conversation_id] = true;
        K.notify.event("longWait", "En chatt har väntat " + u.waitedText(q.waited_seconds) + " i kön", q.preview || "", {
          tag: "vfs-late-" + q.conversation_id,
          onClick: function () {
            K.chat.open(q.conversation_id);
          },
        });
      }
    });
  }

  /** A queue snapshot (from the API or the console WebSocket). */
  function onQueue(data) {
    var queue = Array.isArray(data.queue) ? data.queue : [];
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
      var first = newcomers[0];
      K.notify.event("newChat", "Ny chatt i kön", (first.reason_text || "") + (first.preview ? ": " + first.preview : ""), {
        tag: "vfs-queue-" + first.conversation_id,
        onClick: function () {
          K.chat.open(first.conversation_id);
        },
      });
    }
    knownQueued = ids;
    state.queue = queue;
    state.mine = Array.isArray(data.mine) ? data.mine : [];
    if (data.me) {
      state.me = data.me;
      K.presence.render(data.me);
    }
    if (typeof data.open_tickets === "number") {
      setCount("tickets-count", data.open_tickets);
    }
    var fresh = {};
    newcomers.forEach(function (q) {
      fresh[q.conversation_id] = true;
    });
    keepFocus(function () {
      renderQueue(fresh);
      renderMine();
    });
    checkLongWaits();
  }

  function loadQueue() {
    return K.api.get("/queue").then(onQueue).catch(function () {});
  }

  // Keep the "waited" times fresh, and notice chats that have now waited too long.
  function tick() {
    if (u.$("workspace").hidden || !state.queue.length) {
      return;
    }
    state.queue.forEach(function (q) {
      q.waited_seconds = (q.waited_seconds || 0) + 15;
    });
    keepFocus(function () {
      renderQueue({});
    });
    checkLongWaits();
  }

  // ---------------------------------------------------------------- bot chats

  function loadBot() {
    return K.api
      .get("/conversations?state=bot")
      .then(function (data) {
        state.bot = Array.isArray(data.conversations) ? data.conversations : [];
        keepFocus(function () {
          var list = u.$("bot-list");
          u.clear(list);
          state.bot.forEach(function (c) {
            list.appendChild(
              chatButton(c.conversation_id, u.chatTitle(c), [
                { cls: "chat-item-who", text: u.channelLabel(c.channel) + (c.display_name && c.company_name ? " · " + c.display_name : "") },
                { cls: "chat-item-text", text: c.preview || "" },
                { cls: "chat-item-meta", text: "Senast " + u.timeText(c.updated_at) },
              ])
            );
          });
        });
        setCount("bot-count", state.bot.length);
        u.$("bot-empty").hidden = state.bot.length > 0;
      })
      .catch(function () {});
  }

  // ---------------------------------------------------------------- closed chats

  function fillSelect(id, options) {
    var select = u.$(id);
    while (select.options.length > 1) {
      select.remove(1);
    }
    options.forEach(function (o) {
      var opt = u.el("option", null, o.label);
      opt.value = o.value;
      select.appendChild(opt);
    });
  }

  function fillFilters() {
    var channels = K.session.channels || {};
    fillSelect(
      "closed-channel",
      Object.keys(channels).map(function (name) {
        return { value: name, label: channels[name] };
      })
    );
    fillSelect(
      "closed-outcome",
      (K.session.outcomes || []).map(function (o) {
        return { value: o.code, label: o.label };
      })
    );
    if (!advisorsLoaded) {
      advisorsLoaded = true;
      K.api
        .get("/advisors")
        .then(function (data) {
          fillSelect(
            "closed-advisor",
            (data.advisors || []).map(function (a) {
              return { value: String(a.id), label: a.name };
            })
          );
        })
        .catch(function () {
          advisorsLoaded = false;
        });
    }
  }

  function closedQuery(before) {
    var params = [];
    [
      ["q", "closed-q"],
      ["channel", "closed-channel"],
      ["outcome", "closed-outcome"],
      ["advisor", "closed-advisor"],
      ["from", "closed-from"],
      ["to", "closed-to"],
    ].forEach(function (pair) {
      var value = u.$(pair[1]).value.trim();
      if (value) {
        params.push(pair[0] + "=" + encodeURIComponent(value));
      }
    });
    if (before) {
      params.push("before=" + encodeURIComponent(before));
    }
    return "/closed" + (params.length ? "?" + params.join("&") : "");
  }

  function closedItem(c) {
    var meta = [c.outcome_label, c.closed_by && c.closed_by.name, u.dateTimeText(c.closed_at), c.channel_label]
      .filter(Boolean)
      .join(" · ");
    return chatButton(c.conversation_id, u.chatTitle(c), [
      { cls: "chat-item-text", text: c.preview || "" },
      { cls: "chat-item-meta", text: meta },
    ]);
  }

  function loadClosed(more) {
    var status = u.$("closed-status");
    status.textContent = "Söker …";
    return K.api
      .get(closedQuery(more ? closedNext : null))
      .then(function (data) {
        var rows = Array.isArray(data.conversations) ? data.conversations : [];
        var list = u.$("closed-list");
        if (!more) {
          u.clear(list);
        }
        rows.forEach(function (c) {
          list.appendChild(closedItem(c));
        });
        closedNext = data.next || null;
        u.$("closed-more").hidden = !closedNext;
        var shown = list.children.length;
        status.textContent =
          shown === 0 ? "Inga avslutade chattar matchar." : shown + (closedNext ? "+" : "") + " avslutade chattar.";
      })
      .catch(function (err) {
        status.textContent = err.message;
      });
  }

  // ---------------------------------------------------------------- tickets

  function loadTickets() {
    return K.api
      .get("/tickets?status=open")
      .then(function (data) {
        renderTickets(Array.isArray(data.tickets) ? data.tickets : []);
      })
      .catch(function () {});
  }

  function renderTickets(tickets) {
    var list = u.$("tickets-list");
    u.clear(list);
    tickets.forEach(function (t) {
      var li = u.el("li", "ticket-item");
      li.setAttribute("data-ticket-id", String(t.id));
      var who = [t.name, t.company].filter(Boolean).join(", ") || "Okänd avsändare";
      li.appendChild(u.el("p", "chat-item-title", "Ärende " + t.id + " – " + who));
      li.appendChild(u.el("p", "chat-item-meta", u.dateTimeText(t.created_at)));
      li.appendChild(u.el("p", "ticket-question", t.question || ""));
      var contact = u.el("p", "ticket-contact");
      if (t.email) {
        var mail = u.el("a", null, t.email);
        mail.href = "mailto:" + t.email;
        contact.appendChild(mail);
      }
      if (t.email && t.phone) {
        contact.appendChild(document.createTextNode(" · "));
      }
      if (t.phone) {
        var tel = u.el("a", null, t.phone);
        tel.href = "tel:" + t.phone.replace(/[^0-9+]/g, "");
        contact.appendChild(tel);
      }
      li.appendChild(contact);
      var actions = u.el("p", "ticket-actions");
      if (t.conversation_id) {
        var show = u.el("button", "secondary small", "Visa samtalet");
        show.type = "button";
        show.setAttribute("aria-label", "Visa samtalet för ärende " + t.id);
        show.addEventListener("click", function () {
          K.chat.open(t.conversation_id, { ticket: t });
        });
        actions.appendChild(show);
      }
      var done = u.el("button", "secondary small", "Markera som hanterat");
      done.type = "button";
      done.setAttribute("aria-label", "Markera ärende " + t.id + " som hanterat");
      done.addEventListener("click", function () {
        done.disabled = true;
        K.api
          .post("/tickets/" + encodeURIComponent(t.id) + "/done", {})
          .then(function () {
            u.announce("Ärende " + t.id + " är markerat som hanterat.");
            loadTickets();
          })
          .catch(function (err) {
            done.disabled = false;
            u.announce(err.message);
          });
      });
      actions.appendChild(done);
      li.appendChild(actions);
      list.appendChild(li);
    });
    setCount("tickets-count", tickets.length);
    u.$("tickets-empty").hidden = tickets.length > 0;
  }

  // ---------------------------------------------------------------- tabs

  var TABS = ["tab-bot", "tab-closed", "tab-tickets"];

  function selectTab(id, focus) {
    TABS.forEach(function (tabId) {
      var tab = u.$(tabId);
      var selected = tabId === id;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.tabIndex = selected ? 0 : -1;
      u.$(tab.getAttribute("aria-controls")).hidden = !selected;
    });
    if (focus) {
      u.$(id).focus();
    }
    if (id === "tab-bot") {
      loadBot();
    } else if (id === "tab-closed") {
      fillFilters();
      if (!u.$("closed-list").children.length) {
        loadClosed(false);
      }
    } else if (id === "tab-tickets") {
      loadTickets();
    }
  }

  function initTabs() {
    TABS.forEach(function (id, i) {
      var tab = u.$(id);
      tab.addEventListener("click", function () {
        selectTab(id, false);
      });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight" || event.key === "ArrowDown") {
          next = TABS[(i + 1) % TABS.length];
        } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
          next = TABS[(i - 1 + TABS.length) % TABS.length];
        } else if (event.key === "Home") {
          next = TABS[0];
        } else if (event.key === "End") {
          next = TABS[TABS.length - 1];
        }
        if (next) {
          event.preventDefault();
          selectTab(next, true);
        }
      });
    });
  }

  /** The chats of the visible lists in reading order (my chats, the queue, the open tab). */
  function order() {
    var seen = {};
    var ids = [];
    Array.prototype.forEach.call(document.querySelectorAll(".sidebar .chat-item"), function (b) {
      var id = b.getAttribute("data-conversation-id");
      if (id && !seen[id] && b.getClientRects().length) {
        seen[id] = true;
        ids.push(id);
      }
    });
    return ids;
  }

  function markCurrent() {
    var id = K.chat.currentId();
    Array.prototype.forEach.call(document.querySelectorAll(".chat-item"), function (b) {
      if (id && b.getAttribute("data-conversation-id") === id) {
        b.setAttribute("aria-current", "true");
      } else {
        b.removeAttribute("aria-current");
      }
    });
  }

  function init() {
    initTabs();
    u.$("tickets-refresh").addEventListener("click", loadTickets);
    u.$("closed-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadClosed(false);
    });
    u.$("closed-more").addEventListener("click", function () {
      loadClosed(true);
    });
    setInterval(tick, 15000);
    setInterval(function () {
      if (!u.$("workspace").hidden && !u.$("panel-bot").hidden && !document.hidden) {
        loadBot();
      }
    }, BOT_REFRESH_MS);
  }

  function reset() {
    knownQueued = null;
    lateAlerted = {};
  }

  K.lists = {
    init: init,
    reset: reset,
    onQueue: onQueue,
    loadQueue: loadQueue,
    loadBot: loadBot,
    loadTickets: loadTickets,
    loadClosed: loadClosed,
    selectTab: selectTab,
    markCurrent: markCurrent,
    order: order,
    state: state,
    isMine: function (id) {
      return state.mine.some(function (c) {
        return c.conversation_id === id;
      });
    },
  };
})((window.Konsol = window.Konsol || {}));
