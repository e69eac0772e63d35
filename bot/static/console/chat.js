/*
 * Advisor console – one chat: its transcript (internal notes included, marked as such),
 * claiming, replying and internal notes, hand-back, transfer to a colleague, closing
 * (with the transcript e-mailed to the company), the assistant's suggested referral, the
 * company's details and the bot's summary.
 */
(function (K) {
  "use strict";

  var u = K.util;
  var TYPING_SEND_EVERY_MS = 2000;
  var TYPING_HIDE_AFTER_MS = 10000;

  var STATE_TEXT = {
    bot: "Boten svarar",
    queued: "I kö",
    advisor: "Hos rådgivare",
    offline: "Utanför öppettid",
    closed: "Avslutad",
  };
  var REASONS = {
    request_human: "Bad om en rådgivare",
    complaint: "Klagomål",
    fallback: "Boten förstod inte",
    bot_unavailable: "Boten svarade inte",
  };

  var current = null; // {id, conversation, maxSeq, fetching, ticket}
  var pending = null; // the reply or note being sent: {client_id, text, id, mode}
  var typingHideTimer = null;
  var typingSentAt = 0;
  var typingSent = false;
  var suggestionText = null;

  function ui(id) {
    return u.$(id);
  }

  function isMine() {
    var c = current && current.conversation;
    var me = K.session.advisor;
    return !!(c && c.state === "advisor" && c.advisor && me && c.advisor.id === me.id);
  }

  function mode() {
    return ui("mode-note").checked ? "note" : "reply";
  }

  // ---------------------------------------------------------------- opening a chat

  function open(id, options) {
    if (current && current.id !== id) {
      stopTyping();
    }
    current = { id: id, conversation: null, maxSeq: 0, fetching: false, wasMine: false, ticket: (options && options.ticket) || null };
    pending = null;
    suggestionText = null;
    hideTyping();
    u.clear(ui("transcript"));
    ui("chat-placeholder").hidden = true;
    ui("chat-active").hidden = false;
    ui("tools").hidden = false;
    ui("transfer-form").hidden = true;
    ui("transfer-button").setAttribute("aria-expanded", "false");
    ui("chat-error").textContent = "";
    ui("reply-warning").textContent = "";
    ui("chat-rubrik").textContent = "Chatt " + u.shortId(id);
    ui("chat-meta").textContent = "Hämtar …";
    // No actions until the chat's state is known.
    ["claim-button", "handback-button", "transfer-button", "close-form"].forEach(function (action) {
      ui(action).hidden = true;
    });
    resetSuggestion();
    ui("mode-reply").checked = true; // a reply when the chat is mine, else a note (renderHead)
    K.lists.markCurrent();
    K.canned.load(id);
    return K.api
      .get(K.api.conversationPath(id))
      .then(function (data) {
        if (!current || current.id !== id) {
          return;
        }
        accept(data.conversation); // unless a claim answered first with a newer state
        (data.messages || []).forEach(addMessage);
        renderAll();
        if (["queued", "advisor"].indexOf(data.conversation.state) >= 0) {
          loadSuggestion();
        }
      })
      .catch(function (err) {
        if (current && current.id === id) {
          ui("chat-meta").textContent = err.message;
        }
      });
  }

  function renderAll() {
    renderHead();
    renderSummary();
    renderCompany();
    renderTicket();
  }

  function renderHead() {
    var c = current && current.conversation;
    if (!c) {
      return;
    }
    ui("chat-rubrik").textContent = u.chatTitle(c);
    var meta = [STATE_TEXT[c.state] || c.state, u.channelLabel(c.channel)];
    if (c.state === "advisor" && c.advisor) {
      meta[0] = isMine() ? "Din chatt" : "Hos " + c.advisor.name;
    }
    if (c.display_name && c.display_name !== u.chatTitle(c)) {
      meta.push(c.display_name);
    }
    if (c.created_at) {
      meta.push("startad " + u.dateTimeText(c.created_at));
    }
    if (c.page) {
      meta.push("från " + c.page);
    }
    ui("chat-meta").textContent = meta.join(" · ");

    var mine = isMine();
    var claimable = c.state === "queued" || c.state === "bot" || c.state === "offline";
    ui("claim-button").hidden = !claimable;
    ui("claim-button").textContent = c.state === "queued" ? "Ta chatten" : "Ta över chatten";
    ui("handback-button").hidden = !mine;
    ui("transfer-button").hidden = !mine;
    ui("close-form").hidden = !mine;
    ui("close-email-wrap").hidden = !(mine && K.session.inbox && K.session.inbox.transcript_email);
    if (mine && !ui("close-email").value && c.company_email) {
      ui("close-email").value = c.company_email;
    }
    if (!mine) {
      ui("transfer-form").hidden = true;
      hideTyping();
    }
    // Replies only in my own chats; internal notes in any chat. A chat that has just become
    // mine starts in reply mode, whether the claim's answer or the console's live event
    // told first; a mode the advisor chose after that is kept.
    ui("mode-reply").disabled = !mine;
    if (mine && !current.wasMine) {
      ui("mode-reply").checked = true;
    } else if (!mine && mode() === "reply") {
      ui("mode-note").checked = true;
    }
    current.wasMine = mine;
    renderMode();
  }

  function renderMode() {
    var note = mode() === "note";
    ui("reply-form").classList.toggle("is-note", note);
    ui("reply-label").textContent = note ? "Intern anteckning (syns inte för företaget)" : "Svar till företaget";
    ui("reply-send").textContent = note ? "Spara anteckningen" : "Skicka";
    ui("reply-input").placeholder = note
      ? "Skriv en anteckning till dig själv och kollegorna …"
      : "Skriv ditt svar … (Enter skickar, Skift+Enter ger ny rad, / ger snabbsvar)";
    ui("canned-open").hidden = note;
  }

  // ---------------------------------------------------------------- the transcript

  function whoLabel(m) {
    if (m.role === "user") {
      return (current && current.conversation && current.conversation.display_name) || "Företaget";
    }
    if (m.role === "bot") {
      return "Digital assistent";
    }
    if (m.role === "advisor") {
      return m.author || "Rådgivare";
    }
    if (m.role === "note") {
      return "Intern anteckning – " + (m.author || "rådgivare");
    }
    return "System";
  }

  function buildMessage(m) {
    var item = u.el("div", "msg msg-" + m.role);
    item.setAttribute("data-seq", String(m.seq));
    if (m.role !== "system") {
      item.appendChild(u.el("p", "msg-who", whoLabel(m)));
    }
    if (m.text) {
      var text = u.el("p", "msg-text");
      if (m.role === "user") {
        text.textContent = m.text;
      } else {
        u.appendLinkified(text, m.text);
      }
      item.appendChild(text);
    }
    if (Array.isArray(m.buttons) && m.buttons.length) {
      var titles = m.buttons
        .map(function (b) {
          return b && b.title;
        })
        .filter(Boolean);
      item.appendChild(u.el("p", "msg-buttons", "Knappar: " + titles.join(" · ")));
    }
    item.appendChild(u.el("span", "msg-meta", u.timeText(m.created_at) + (m.role === "note" ? " · syns inte för företaget" : "")));
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
    var log = ui("transcript");
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    log.appendChild(buildMessage(m));
    if (nearBottom || m.role === "advisor" || m.role === "note") {
      log.scrollTop = log.scrollHeight;
    }
  }

  function catchUp() {
    if (!current || current.fetching) {
      return;
    }
    var id = current.id;
    current.fetching = true;
    K.api
      .get(K.api.conversationPath(id, "/messages?after_seq=" + current.maxSeq))
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
    K.api
      .get(K.api.conversationPath(id))
      .then(function (data) {
        if (accept(data.conversation)) {
          renderAll();
        }
      })
      .catch(function () {});
  }

  function showTyping() {
    ui("typing").textContent = "Företaget skriver …";
    clearTimeout(typingHideTimer);
    typingHideTimer = setTimeout(hideTyping, TYPING_HIDE_AFTER_MS);
  }

  function hideTyping() {
    clearTimeout(typingHideTimer);
    ui("typing").textContent = "";
  }

  // ---------------------------------------------------------------- summary, company, ticket

  function renderSummary() {
    var body = ui("summary-body");
    var c = current && current.conversation;
    u.clear(body);
    if (!c) {
      return;
    }
    if (c.handoff_reason) {
      body.appendChild(u.el("h3", null, "Orsak"));
      body.appendChild(u.el("p", null, REASONS[c.handoff_reason] || c.handoff_reason));
    }
    if (c.question) {
      body.appendChild(u.el("h3", null, "Företagets fråga"));
      body.appendChild(u.el("p", "quote", c.question));
    }
    var s = c.summary;
    if (!s) {
      body.appendChild(u.el("p", "muted", "Boten har ingen sammanfattning av den här chatten."));
      return;
    }
    if (s.text) {
      body.appendChild(u.el("h3", null, "Sammanfattning"));
      body.appendChild(u.el("p", null, s.text));
    }
    body.appendChild(u.el("h3", null, "Vad företaget frågade"));
    if (Array.isArray(s.asked) && s.asked.length) {
      var asked = u.el("ul", "asked");
      s.asked.forEach(function (q) {
        var li = u.el("li");
        li.appendChild(u.el("p", "quote", String(q)));
        asked.appendChild(li);
      });
      body.appendChild(asked);
    } else {
      body.appendChild(u.el("p", "muted", "–"));
    }
    body.appendChild(u.el("h3", null, "Vad boten förstod"));
    if (Array.isArray(s.understood) && s.understood.length) {
      var tags = u.el("p", "tags");
      s.understood.forEach(function (t, i) {
        if (i) {
          tags.appendChild(document.createTextNode(" "));
        }
        tags.appendChild(u.el("span", "tag", String(t)));
      });
      body.appendChild(tags);
    } else {
      body.appendChild(u.el("p", "muted", "Inget säkert ämne."));
    }
    body.appendChild(u.el("h3", null, "Hänvisningar som boten redan gett"));
    if (Array.isArray(s.targets_given) && s.targets_given.length) {
      var list = u.el("ol");
      s.targets_given.forEach(function (t) {
        list.appendChild(u.el("li", null, String(t)));
      });
      body.appendChild(list);
    } else {
      body.appendChild(u.el("p", "muted", "Inga ännu."));
    }
  }

  function renderCompany() {
    var c = current && current.conversation;
    if (!c) {
      return;
    }
    if (document.activeElement !== ui("company-name")) {
      ui("company-name").value = c.company_name || (current.ticket && current.ticket.company) || "";
    }
    if (document.activeElement !== ui("company-email")) {
      ui("company-email").value = c.company_email || (current.ticket && current.ticket.email) || "";
    }
  }

  function renderTicket() {
    var card = ui("ticket-card");
    var t = current && current.ticket;
    u.clear(card);
    card.hidden = !t;
    if (!t) {
      return;
    }
    card.appendChild(u.el("h3", null, "Ärende " + t.id));
    card.appendChild(u.el("p", "quote", t.question || ""));
    var who = [t.name, t.company, t.email, t.phone].filter(Boolean).join(" · ");
    card.appendChild(u.el("p", null, who));
  }

  // ---------------------------------------------------------------- the suggested referral

  function resetSuggestion() {
    suggestionText = null;
    ui("suggestion-for").textContent = "";
    ui("suggestion-text").textContent = "";
    ui("suggestion-insert").hidden = true;
  }

  function loadSuggestion() {
    if (!current) {
      return;
    }
    var id = current.id;
    ui("suggestion-text").textContent = "Hämtar förslaget …";
    K.api
      .get(K.api.conversationPath(id, "/suggestion"))
      .then(function (data) {
        if (!current || current.id !== id) {
          return;
        }
        var s = data.suggestion;
        if (!s) {
          resetSuggestion();
          ui("suggestion-text").textContent = data.message || "Inget förslag.";
          return;
        }
        suggestionText = s.text;
        ui("suggestion-for").textContent = "Utifrån: ”" + s["for"].text + "”";
        ui("suggestion-text").textContent = s.text;
        ui("suggestion-insert").hidden = false;
      })
      .catch(function (err) {
        if (current && current.id === id) {
          resetSuggestion();
          ui("suggestion-text").textContent = err.message;
        }
      });
  }

  function insertSuggestion() {
    if (!suggestionText) {
      return;
    }
    if (isMine()) {
      ui("mode-reply").checked = true;
      renderMode();
    }
    var box = ui("reply-input");
    box.value = box.value.trim() ? box.value.replace(/\s*$/, "\n\n") + suggestionText : suggestionText;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    u.announce("Förslaget är infogat i svaret.");
  }

  // ---------------------------------------------------------------- actions

  function actionError(err) {
    u.announce(err.message);
    ui("chat-error").textContent = err.message;
    if (current) {
      catchUp();
    }
  }

  function withButton(button, request) {
    button.disabled = true;
    ui("chat-error").textContent = "";
    return request()
      .catch(actionError)
      .then(function () {
        button.disabled = false;
      });
  }

  function claim() {
    if (!current || ui("claim-button").hidden) {
      return;
    }
    var id = current.id;
    withButton(ui("claim-button"), function () {
      return K.api.post(K.api.conversationPath(id, "/claim"), {}).then(function (data) {
        if (current && current.id === id) {
          current.conversation = data.conversation;
          (data.messages || []).forEach(addMessage);
          renderAll(); // reply mode, if the live event has not switched to it already
          u.announce("Du har tagit chatten.");
          ui("reply-input").focus();
          loadSuggestion();
        }
        K.lists.loadQueue();
      });
    });
  }

  function handBack() {
    if (!current) {
      return;
    }
    var id = current.id;
    stopTyping();
    withButton(ui("handback-button"), function () {
      return K.api.post(K.api.conversationPath(id, "/handback"), {}).then(function (data) {
        if (current && current.id === id && data.conversation) {
          current.conversation = data.conversation;
          renderAll();
        }
        u.announce("Chatten är tillbaka hos boten.");
        catchUp();
        K.lists.loadQueue();
      });
    });
  }

  function closeChat(event) {
    event.preventDefault();
    if (!current || ui("close-form").hidden) {
      return;
    }
    var id = current.id;
    stopTyping();
    var body = { outcome: ui("outcome-select").value };
    var email = ui("close-email").value.trim();
    if (email && !ui("close-email-wrap").hidden) {
      body.email = email;
    }
    withButton(ui("close-button"), function () {
      return K.api.post(K.api.conversationPath(id, "/close"), body).then(function (data) {
        if (current && current.id === id && data && data.conversation) {
          current.conversation = data.conversation;
          renderAll();
        }
        ui("close-email").value = "";
        u.announce(
          "Chatten är avslutad." + (data.transcript_email ? " Samtalet skickas till " + data.transcript_email.to + "." : "")
        );
        catchUp();
        K.lists.loadQueue();
      });
    });
  }

  // ---------------------------------------------------------------- transfer

  function openTransfer() {
    var form = ui("transfer-form");
    if (!form.hidden) {
      closeTransfer();
      return;
    }
    form.hidden = false;
    ui("transfer-button").setAttribute("aria-expanded", "true");
    var select = ui("transfer-advisor");
    u.clear(select);
    select.appendChild(u.el("option", null, "Hämtar kollegor …"));
    K.api
      .get("/advisors")
      .then(function (data) {
        u.clear(select);
        var me = K.session.advisor && K.session.advisor.id;
        var colleagues = (data.advisors || []).filter(function (a) {
          return a.id !== me;
        });
        if (!colleagues.length) {
          select.appendChild(u.el("option", null, "Inga kollegor finns"));
        }
        colleagues.forEach(function (a) {
          var why = !a.online ? "inte inloggad" : a.presence !== "available" ? "borta" : a.chats >= a.max_chats ? "fullt" : "";
          var opt = u.el("option", null, a.name + " – " + (why || a.chats + " av " + a.max_chats + " chattar"));
          opt.value = String(a.id);
          opt.disabled = !!why;
          select.appendChild(opt);
        });
        var firstFree = Array.prototype.find.call(select.options, function (o) {
          return !o.disabled && o.value;
        });
        if (firstFree) {
          select.value = firstFree.value;
        }
        select.focus();
      })
      .catch(function (err) {
        u.clear(select);
        ui("chat-error").textContent = err.message;
      });
  }

  function closeTransfer() {
    ui("transfer-form").hidden = true;
    ui("transfer-button").setAttribute("aria-expanded", "false");
    ui("transfer-note").value = "";
  }

  function submitTransfer(event) {
    event.preventDefault();
    if (!current) {
      return;
    }
    var id = current.id;
    var target = parseInt(ui("transfer-advisor").value, 10);
    var name = ui("transfer-advisor").selectedOptions[0] ? ui("transfer-advisor").selectedOptions[0].textContent.split(" – ")[0] : "";
    withButton(ui("transfer-submit"), function () {
      return K.api
        .post(K.api.conversationPath(id, "/transfer"), { advisor_id: isNaN(target) ? null : target, note: ui("transfer-note").value })
        .then(function (data) {
          closeTransfer();
          if (current && current.id === id && data.conversation) {
            current.conversation = data.conversation;
            renderAll();
          }
          u.announce("Chatten är överlämnad till " + name + ".");
          catchUp();
          K.lists.loadQueue();
        });
    });
  }

  // ---------------------------------------------------------------- replies and notes

  function maxChars() {
    return (K.session.inbox && K.session.inbox.max_message_chars) || 2000;
  }

  function send() {
    if (!current) {
      return;
    }
    var note = mode() === "note";
    if (!note && !isMine()) {
      return;
    }
    var box = ui("reply-input");
    var text = box.value.trim();
    if (!text) {
      return;
    }
    var missing = K.canned.unfilled(text);
    if (missing.length) {
      ui("reply-warning").textContent = K.canned.warningText(missing);
      ui("reply-warning").classList.add("is-warning");
      var first = box.value.indexOf("{" + missing[0] + "}");
      box.focus();
      box.setSelectionRange(first, first + missing[0].length + 2);
      return;
    }
    if (text.length > maxChars()) {
      ui("reply-warning").textContent =
        "Texten är för lång: " + text.length + " tecken, högst " + maxChars() + ". Korta den innan du skickar.";
      ui("reply-warning").classList.add("is-warning");
      return;
    }
    var kind = note ? "note" : "reply";
    if (!pending || pending.text !== text || pending.id !== current.id || pending.mode !== kind) {
      pending = { client_id: u.newClientId(), text: text, id: current.id, mode: kind };
    }
    var item = pending;
    if (!note) {
      stopTyping();
    }
    ui("reply-send").disabled = true;
    K.api
      .post(K.api.conversationPath(item.id, note ? "/notes" : "/messages"), { client_id: item.client_id, text: item.text })
      .then(function (data) {
        if (pending === item) {
          pending = null;
        }
        if (box.value.trim() === item.text) {
          box.value = "";
          K.canned.warn();
        }
        if (current && current.id === item.id && data && data.message) {
          addMessage(data.message);
        }
        if (note) {
          u.announce("Anteckningen är sparad. Den syns inte för företaget.");
        }
      })
      .catch(function (err) {
        // The text stays in the box; sending again reuses the same client_id.
        u.announce(err.message);
        ui("reply-warning").textContent = err.message;
      })
      .then(function () {
        ui("reply-send").disabled = false;
        box.focus();
      });
  }

  function stopTyping() {
    if (typingSent && current) {
      K.ws.send({ type: "typing", conversation_id: current.id, typing: false });
    }
    typingSent = false;
    typingSentAt = 0;
  }

  function noteTyping() {
    if (!current || !isMine() || mode() !== "reply") {
      return;
    }
    if (!ui("reply-input").value.trim()) {
      stopTyping();
      return;
    }
    var now = Date.now();
    if (!typingSent || now - typingSentAt >= TYPING_SEND_EVERY_MS) {
      if (K.ws.send({ type: "typing", conversation_id: current.id, typing: true })) {
        typingSent = true;
        typingSentAt = now;
      }
    }
  }

  // ---------------------------------------------------------------- live events

  function onMessage(frame) {
    if (current && frame.conversation_id === current.id && frame.message) {
      addMessage(frame.message);
    }
  }

  /** A newer view of the open chat replaces the one shown; an older one (a snapshot read
   * before a change, delivered after it) is ignored. Every change of state stores a
   * message, so the last sequence number orders them. */
  function accept(conversation) {
    var shown = current && current.conversation;
    if (!current || !conversation || conversation.id !== current.id) {
      return false;
    }
    if (shown && typeof conversation.last_seq === "number" && conversation.last_seq < shown.last_seq) {
      return false;
    }
    current.conversation = conversation;
    return true;
  }

  function onConversation(conversation) {
    if (accept(conversation)) {
      renderAll();
    }
  }

  function onTyping(frame) {
    if (current && frame.conversation_id === current.id && frame.role === "user") {
      if (frame.typing) {
        showTyping();
      } else {
        hideTyping();
      }
    }
  }

  function onTranscriptEmail(frame) {
    if (current && frame.conversation_id === current.id) {
      var text = {
        sent: "Samtalet är skickat till " + frame.to + ".",
        retrying: "Samtalet kunde inte skickas till " + frame.to + " just nu. Nytt försök görs.",
        failed: "Samtalet kunde inte skickas till " + frame.to + ".",
      }[frame.status];
      if (text) {
        u.announce(text);
        ui("chat-error").textContent = frame.status === "sent" ? "" : text;
      }
    }
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    ui("claim-button").addEventListener("click", claim);
    ui("handback-button").addEventListener("click", handBack);
    ui("close-form").addEventListener("submit", closeChat);
    ui("transfer-button").addEventListener("click", openTransfer);
    ui("transfer-cancel").addEventListener("click", function () {
      closeTransfer();
      ui("transfer-button").focus();
    });
    ui("transfer-form").addEventListener("submit", submitTransfer);
    ui("suggestion-refresh").addEventListener("click", loadSuggestion);
    ui("suggestion-insert").addEventListener("click", insertSuggestion);
    ui("mode-reply").addEventListener("change", renderMode);
    ui("mode-note").addEventListener("change", function () {
      stopTyping();
      renderMode();
    });
    ui("company-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) {
        return;
      }
      var id = current.id;
      ui("company-status").textContent = "";
      K.api
        .post(K.api.conversationPath(id, "/company"), {
          company_name: ui("company-name").value,
          company_email: ui("company-email").value,
        })
        .then(function (data) {
          if (current && current.id === id) {
            current.conversation = data.conversation;
            renderAll();
            K.canned.load(id);
          }
          ui("company-status").textContent = "Uppgifterna är sparade.";
        })
        .catch(function (err) {
          ui("company-status").textContent = err.message;
        });
    });
    ui("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      send();
    });
    var box = ui("reply-input");
    box.addEventListener("keydown", function (event) {
      if (K.canned.onKeydown(event)) {
        return;
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      } else if (event.key === "Escape") {
        // Leave the box, so that the one-key shortcuts work again.
        event.preventDefault();
        ui("transcript").focus();
      }
    });
    box.addEventListener("input", noteTyping);
    box.addEventListener("blur", stopTyping);
  }

  function reset() {
    current = null;
    ui("chat-active").hidden = true;
    ui("chat-placeholder").hidden = false;
    ui("tools").hidden = true;
  }

  K.chat = {
    init: init,
    reset: reset,
    open: open,
    claim: claim,
    catchUp: catchUp,
    onMessage: onMessage,
    onConversation: onConversation,
    onTyping: onTyping,
    onTranscriptEmail: onTranscriptEmail,
    isMine: isMine,
    currentId: function () {
      return current ? current.id : null;
    },
    current: function () {
      return current;
    },
    focusClose: function () {
      if (!ui("close-form").hidden) {
        ui("outcome-select").focus();
      }
    },
    focusReply: function () {
      if (!ui("chat-active").hidden && !ui("reply-form").hidden) {
        ui("reply-input").focus();
      }
    },
  };
})((window.Konsol = window.Konsol || {}));
