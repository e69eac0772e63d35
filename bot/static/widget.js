/*
 * Västmanlands Företagssupport – chat widget.
 *
 * Embed with one tag:  <script src="https://GATEWAY/widget.js" defer></script>
 *
 * Self-contained: builds its DOM inside a shadow root and loads its own stylesheet from the
 * gateway (GATEWAY/static/widget.css). Talks to the gateway over a WebSocket
 * (docs/gateway-protocol.md, section 3):
 *   - the conversation id lives in localStorage, so a reload resumes the conversation and
 *     the whole history is replayed by sequence number;
 *   - every company message carries a client_id and stays in a persisted outbox until the
 *     server acknowledges it; after a reconnect (with backoff) unacknowledged items are sent
 *     again with the same client_id (at-least-once, idempotent on the server);
 *   - every text is rendered with textContent / text nodes, never as HTML.
 */
(function () {
  "use strict";

  if (window.__vfsChatWidgetLoaded) {
    return;
  }
  window.__vfsChatWidgetLoaded = true;

  var PROTOCOL = 1;
  var script = document.currentScript;
  var scriptUrl = new URL((script && script.src) || "/widget.js", window.location.href);
  var ORIGIN = scriptUrl.origin;
  var WS_URL = ORIGIN.replace(/^http/, "ws") + "/widget/ws";
  var STORE_KEY = "vfs-chat:v1:" + ORIGIN;
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  var TYPING_SEND_EVERY_MS = 2000;
  var TYPING_HIDE_AFTER_MS = 10000;
  var HEARTBEAT_MS = 25000;
  var SILENCE_LIMIT_MS = 65000;
  var SVG_NS = "http://www.w3.org/2000/svg";

  var T = {
    launcher: "Öppna chatten",
    panel: "Chatt med Västmanlands Företagssupport",
    title: "Västmanlands Företagssupport",
    close: "Stäng chatten",
    log: "Meddelanden i chatten",
    input: "Meddelande",
    placeholder: "Skriv din fråga …",
    send: "Skicka",
    you: "Du",
    bot: "Digital assistent",
    system: "Västmanlands Företagssupport",
    advisorSuffix: ", rådgivare",
    subtitleBot: "Digital assistent – svarar direkt",
    subtitleQueued: "Väntar på en rådgivare",
    subtitleClosed: "Chatten är avslutad",
    subtitleOffline: "Rådgivarna är inte på plats just nu",
    connecting: "Ansluter …",
    reconnecting: "Anslutningen bröts. Försöker ansluta igen …",
    reconnectingShort: "Återansluter …",
    tooLong: function (length, max) {
      return (
        "Meddelandet är för långt: " + length + " tecken, du kan skriva högst " + max +
        ". Korta det innan du skickar – texten finns kvar."
      );
    },
    nearLimit: function (length, max) {
      return length + " av högst " + max + " tecken.";
    },
    askAdvisor: "Prata med en rådgivare",
    askAdvisorText: "Jag vill prata med en rådgivare",
    leaveQueue: "Lämna kön",
    queued: "Du står i kö till en rådgivare.",
    fineprint: "Skriv inte känsliga personuppgifter i chatten.",
    typingBot: "Assistenten skriver",
    typingAdvisor: " skriver",
    pending: "skickas …",
    unreadOne: "1 nytt meddelande",
    unreadMany: " nya meddelanden",
    image: "Bild från assistenten",
    offlineTitle: "Lämna din fråga",
    offlineNoAdvisor: "Just nu är våra rådgivare inte på plats.",
    offlineBody: "Lämna din fråga och dina kontaktuppgifter, så hör en rådgivare av sig.",
    offlineOpens: "Vi öppnar igen ",
    name: "Namn",
    company: "Företag",
    email: "E-postadress",
    phone: "Telefonnummer",
    question: "Din fråga",
    contactHint: "Fyll i e-postadress eller telefonnummer (minst ett av dem).",
    submitTicket: "Lämna frågan",
    sendingTicket: "Skickar …",
    noThanks: "Nej tack",
    needQuestion: "Skriv din fråga.",
    needContact: "Ange e-postadress eller telefonnummer.",
    badEmail: "Ange en giltig e-postadress.",
    badPhone: "Ange ett giltigt telefonnummer.",
    privacyTitle: "Om din chatt",
    privacyText: function (days) {
      return (
        "Först svarar en digital assistent, och vill du kan en rådgivare på Västmanlands " +
        "Företagssupport ta över. Vi sparar det du skriver och svaren i " + days + " dagar, " +
        "sedan raderas chatten. Personnummer tas bort automatiskt. Chattens id sparas i din " +
        "webbläsare så att du kan fortsätta efter att sidan laddats om. Du kan radera chatten " +
        "själv med ”Radera min chatt”, eller be oss radera dina uppgifter."
      );
    },
    privacyLink: "Så hanterar vi personuppgifter",
    erase: "Radera min chatt",
    eraseConfirm: "Vill du radera hela chatten? Allt du skrivit och alla svar tas bort hos oss. Det går inte att ångra.",
    eraseYes: "Ja, radera chatten",
    eraseNo: "Avbryt",
    erased: "Din chatt är raderad.",
  };

  // ---------------------------------------------------------------- persistence

  function loadStore() {
    var empty = { conversationId: null, lastSeq: 0, outbox: [], open: false };
    try {
      var raw = window.localStorage.getItem(STORE_KEY);
      if (!raw) {
        return empty;
      }
      var data = JSON.parse(raw);
      return {
        conversationId: typeof data.conversationId === "string" ? data.conversationId : null,
        lastSeq: typeof data.lastSeq === "number" ? data.lastSeq : 0,
        outbox: Array.isArray(data.outbox) ? data.outbox : [],
        open: data.open === true,
      };
    } catch (e) {
      return empty;
    }
  }

  var store = loadStore();
  var privacyDays = 90;
  var privacyUrl = ORIGIN + "/integritet";

  function saveStore() {
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(store));
    } catch (e) {
      /* private mode or full storage: the chat still works for this page view */
    }
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += ("0" + bytes[i].toString(16)).slice(-2);
    }
    return out;
  }

  // ---------------------------------------------------------------- DOM helpers

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

  function svgIcon(paths, viewBox) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", viewBox || "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
      svg.appendChild(path);
    });
    return svg;
  }

  function logoMark() {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 44 44");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "header-avatar");
    var rect = document.createElementNS(SVG_NS, "rect");
    rect.setAttribute("width", "44");
    rect.setAttribute("height", "44");
    rect.setAttribute("rx", "10");
    rect.setAttribute("fill", "#0d4f8b");
    var v = document.createElementNS(SVG_NS, "path");
    v.setAttribute("d", "M9 12 L22 34 L35 12");
    v.setAttribute("fill", "none");
    v.setAttribute("stroke", "#ffffff");
    v.setAttribute("stroke-width", "4.5");
    v.setAttribute("stroke-linecap", "round");
    v.setAttribute("stroke-linejoin", "round");
    var flame = document.createElementNS(SVG_NS, "path");
    flame.setAttribute(
      "d",
      "M22 8 C25 11 26 13.5 24.2 16.5 C23.5 17.6 22.6 18.3 22 18.8 C21.4 18.3 20.5 17.6 19.8 16.5 C18 13.5 19 11 22 8 Z"
    );
    flame.setAttribute("fill", "#e0662d");
    svg.appendChild(rect);
    svg.appendChild(v);
    svg.appendChild(flame);
    return svg;
  }

  var LINK_RE = /(https?:\/\/[^\s<>"]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;

  /** Appends `text` to `parent` as text nodes, turning http(s) URLs and e-mail addresses
   * into <a> elements built here (never parsed as HTML). */
  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var found = match[0];
      var trail = "";
      while (/[.,;:!?)\]]$/.test(found)) {
        trail = found.slice(-1) + trail;
        found = found.slice(0, -1);
      }
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      var href = found.indexOf("@") > 0 && found.indexOf("://") < 0 ? "mailto:" + found : found;
      var a = null;
      try {
        var url = new URL(href);
        if (["http:", "https:", "mailto:"].indexOf(url.protocol) >= 0) {
          a = el("a", null, found);
          a.href = url.href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
        }
      } catch (e) {
        a = null;
      }
      parent.appendChild(a || document.createTextNode(found));
      if (trail) {
        parent.appendChild(document.createTextNode(trail));
      }
      last = match.index + match[0].length;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function timeText(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d.getTime())) {
      d = new Date();
    }
    try {
      return d.toLocaleTimeString("sv-SE", { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    }
  }

  // ---------------------------------------------------------------- build the widget

  // An element name of our own, so that the host page's element selectors (div, section …)
  // do not match it; its styles live in the shadow root.
  var host = document.createElement("vfs-chat-widget");
  host.id = "vfs-chat-widget";
  host.setAttribute("data-vfs-chat", "");
  var root = host.attachShadow({ mode: "open" });

  var stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = ORIGIN + "/static/widget.css";
  root.appendChild(stylesheet);

  var shell = el("div", "shell");
  shell.hidden = true; // shown once the stylesheet has loaded (no flash of unstyled content)
  root.appendChild(shell);

  function revealShell() {
    shell.hidden = false;
    scrollToEnd();
  }
  stylesheet.addEventListener("load", revealShell);
  stylesheet.addEventListener("error", revealShell);

  // Launcher
  var launcher = el("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "vfs-panel");
  launcher.appendChild(
    svgIcon(["M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z", "M8.5 11h7", "M8.5 14h4.5"])
  );
  var launcherLabel = el("span", "launcher-label", T.launcher);
  launcher.appendChild(launcherLabel);
  var badge = el("span", "launcher-badge");
  badge.hidden = true;
  launcher.appendChild(badge);
  shell.appendChild(launcher);

  // Panel
  var panel = el("section", "panel");
  panel.id = "vfs-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "false");
  panel.setAttribute("aria-labelledby", "vfs-title");
  panel.hidden = true;
  shell.appendChild(panel);

  var header = el("div", "header");
  header.appendChild(logoMark());
  var headerText = el("div", "header-text");
  var title = el("h2", "title", T.title);
  title.id = "vfs-title";
  var subtitle = el("p", "subtitle");
  var dot = el("span", "dot");
  dot.setAttribute("aria-hidden", "true");
  var subtitleText = el("span", "subtitle-text", T.subtitleBot);
  subtitle.appendChild(dot);
  subtitle.appendChild(subtitleText);
  headerText.appendChild(title);
  headerText.appendChild(subtitle);
  header.appendChild(headerText);
  var closeButton = el("button", "icon-button");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", T.close);
  closeButton.title = T.close;
  closeButton.appendChild(svgIcon(["M6 6l12 12", "M18 6L6 18"]));
  header.appendChild(closeButton);
  panel.appendChild(header);

  // Banner: queue position / advisor / reconnecting (a polite status region)
  var banner = el("div", "banner");
  banner.setAttribute("role", "status");
  banner.hidden = true;
  var bannerTitle = el("strong", "banner-title");
  var bannerText = el("span", "banner-text");
  var bannerAction = el("button", "choice banner-action");
  bannerAction.type = "button";
  bannerAction.hidden = true;
  banner.appendChild(bannerTitle);
  banner.appendChild(bannerText);
  panel.appendChild(banner);
  var bannerActions = el("div", "choices banner-actions");
  bannerActions.appendChild(bannerAction);
  bannerActions.hidden = true;
  panel.appendChild(bannerActions);

  var connNotice = el("p", "banner is-warning conn-notice");
  connNotice.setAttribute("role", "status");
  connNotice.hidden = true;
  panel.appendChild(connNotice);

  // The conversation: a log, so screen readers announce new messages politely.
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", T.log);
  log.tabIndex = 0;
  // The scrolling body holds the log and, outside opening hours, the form after it.
  var body = el("div", "body");
  // The privacy notice: shown until the company has written its first message.
  var privacy = el("section", "privacy");
  privacy.setAttribute("aria-labelledby", "vfs-privacy-title");
  var privacyTitle = el("h3", "privacy-title", T.privacyTitle);
  privacyTitle.id = "vfs-privacy-title";
  var privacyText = el("p", "privacy-text", T.privacyText(privacyDays));
  var privacyLink = el("a", "privacy-link", T.privacyLink);
  privacyLink.href = privacyUrl;
  privacyLink.target = "_blank";
  privacyLink.rel = "noopener";
  privacy.appendChild(privacyTitle);
  privacy.appendChild(privacyText);
  privacy.appendChild(privacyLink);
  body.appendChild(privacy);
  body.appendChild(log);
  panel.appendChild(body);

  var typing = el("p", "typing");
  typing.setAttribute("aria-live", "polite");
  var typingText = el("span", "typing-text");
  var typingDots = el("span", "typing-dots");
  typingDots.setAttribute("aria-hidden", "true");
  typingDots.appendChild(el("span"));
  typingDots.appendChild(el("span"));
  typingDots.appendChild(el("span"));
  typing.appendChild(typingText);
  typing.appendChild(typingDots);
  typingDots.hidden = true;
  panel.appendChild(typing);

  // Offline: leave a question (becomes a ticket)
  var offline = el("section", "offline");
  offline.setAttribute("aria-labelledby", "vfs-offline-title");
  offline.hidden = true;
  body.appendChild(offline);

  // Composer
  var composer = el("form", "composer");
  composer.noValidate = true;
  var inputLabel = el("label", "sr-only", T.input);
  inputLabel.htmlFor = "vfs-input";
  var input = el("textarea");
  input.id = "vfs-input";
  input.name = "message";
  input.rows = 1;
  input.placeholder = T.placeholder;
  input.setAttribute("autocomplete", "off");
  // No maxLength: the browser would cut a long paste silently. The limit note says so instead.
  var maxChars = 2000;
  var sendButton = el("button", "send", T.send);
  sendButton.type = "submit";
  composer.appendChild(inputLabel);
  composer.appendChild(input);
  composer.appendChild(sendButton);
  panel.appendChild(composer);

  var limitNote = el("p", "limit-note");
  limitNote.id = "vfs-limit";
  limitNote.setAttribute("aria-live", "polite");
  limitNote.hidden = true;
  panel.appendChild(limitNote);
  input.setAttribute("aria-describedby", limitNote.id);

  var fineprint = el("p", "fineprint");
  var advisorLink = el("button", "linkish", T.askAdvisor);
  advisorLink.type = "button";
  fineprint.appendChild(document.createTextNode(T.fineprint + " "));
  fineprint.appendChild(advisorLink);
  var eraseLink = el("button", "linkish erase-link", T.erase);
  eraseLink.type = "button";
  fineprint.appendChild(document.createTextNode(" · "));
  fineprint.appendChild(eraseLink);
  panel.appendChild(fineprint);

  // "Radera min chatt": asks first, then erases the conversation on the server.
  var eraseBox = el("div", "erase-confirm");
  eraseBox.setAttribute("role", "alertdialog");
  eraseBox.setAttribute("aria-labelledby", "vfs-erase-text");
  eraseBox.hidden = true;
  var eraseText = el("p", "erase-text", T.eraseConfirm);
  eraseText.id = "vfs-erase-text";
  var eraseActions = el("div", "choices");
  var eraseYes = el("button", "choice erase-yes", T.eraseYes);
  eraseYes.type = "button";
  var eraseNo = el("button", "choice", T.eraseNo);
  eraseNo.type = "button";
  eraseActions.appendChild(eraseYes);
  eraseActions.appendChild(eraseNo);
  eraseBox.appendChild(eraseText);
  eraseBox.appendChild(eraseActions);
  panel.insertBefore(eraseBox, fineprint);

  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }

  // ---------------------------------------------------------------- state

  var ws = null;
  var welcomed = false;
  var wantConnection = false;
  var reconnectAttempt = 0;
  var reconnectTimer = null;
  var heartbeatTimer = null;
  var lastFrameAt = 0;
  var maxSeq = 0; // highest seq rendered in this page view
  var status = { state: "bot" };
  var unread = 0;
  var typingHideTimer = null;
  var typingRole = null;
  var lastTypingSentAt = 0;
  var typingSent = false;
  var pendingBubbles = {}; // client_id -> element
  var resendTimer = null;
  var ticketPending = false;
  var everWelcomed = false; // a conversation was open in this page view: later drops reconnect
  var statusSubtitle = T.subtitleBot; // what the header says while connected
  var replaying = false; // between `welcome` and its `status`: the replay of missed messages

  // ---------------------------------------------------------------- rendering

  function scrollToEnd() {
    body.scrollTop = body.scrollHeight;
  }

  function whoLabel(msg) {
    if (msg.role === "user") {
      return T.you;
    }
    if (msg.role === "bot") {
      return T.bot;
    }
    if (msg.role === "advisor") {
      return (msg.author || "Rådgivare") + T.advisorSuffix;
    }
    return T.system;
  }

  function buildMessage(msg, pending) {
    var item = el("div", "msg msg-" + msg.role + (pending ? " msg-pending" : ""));
    if (msg.seq) {
      item.setAttribute("data-seq", String(msg.seq));
    }
    if (msg.client_id) {
      item.setAttribute("data-client-id", msg.client_id);
    }
    if (msg.role !== "system") {
      item.appendChild(el("p", "msg-who", whoLabel(msg)));
    }
    if (msg.text) {
      var bubble = el("p", "msg-text");
      if (msg.role === "user") {
        bubble.textContent = msg.text;
      } else {
        appendLinkified(bubble, msg.text);
      }
      item.appendChild(bubble);
    }
    if (msg.image && /^https:\/\//.test(msg.image)) {
      var img = el("img", "msg-image");
      img.src = msg.image;
      img.alt = T.image;
      img.loading = "lazy";
      item.appendChild(img);
    }
    if (Array.isArray(msg.buttons) && msg.buttons.length) {
      var group = el("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Svarsalternativ");
      msg.buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string") {
          return;
        }
        var btn = el("button", "choice", b.title);
        btn.type = "button";
        btn.addEventListener("click", function () {
          sendMessage(b.title, typeof b.payload === "string" ? b.payload : null);
        });
        group.appendChild(btn);
      });
      item.appendChild(group);
    }
    var meta = el("span", "msg-meta", timeText(msg.created_at));
    item.appendChild(meta);
    return item;
  }

  function updatePrivacyNotice() {
    privacy.hidden = !!log.querySelector(".msg-user");
  }

  function renderMessage(msg) {
    if (typeof msg.seq !== "number" || msg.seq <= maxSeq) {
      return; // already rendered (replay after reconnect, or a duplicate)
    }
    maxSeq = msg.seq;
    if (store.lastSeq !== maxSeq) {
      store.lastSeq = maxSeq;
      saveStore();
    }
    var node = buildMessage(msg, false);
    var pendingNode = msg.client_id ? pendingBubbles[msg.client_id] : null;
    if (pendingNode && pendingNode.parentNode === log) {
      // Our own message came back stored: it takes the pending bubble's place.
      log.replaceChild(node, pendingNode);
      delete pendingBubbles[msg.client_id];
      dropFromOutbox(msg.client_id);
    } else {
      // Keep not-yet-stored bubbles at the end, after every stored message.
      var firstPending = log.querySelector(".msg-pending");
      log.insertBefore(node, firstPending);
    }
    if (msg.role === typingRole) {
      hideTyping();
    }
    updatePrivacyNotice();
    if (msg.role !== "user" && panel.hidden && welcomed && !replaying) {
      unread += 1;
      updateBadge();
    }
    scrollToEnd();
  }

  function renderPending(item) {
    var node = buildMessage(
      { role: "user", text: item.text, client_id: item.client_id, buttons: [] },
      true
    );
    pendingBubbles[item.client_id] = node;
    log.appendChild(node);
    scrollToEnd();
  }

  function removePending(clientId) {
    var node = pendingBubbles[clientId];
    if (node && node.parentNode) {
      node.parentNode.removeChild(node);
    }
    delete pendingBubbles[clientId];
  }

  function updateBadge() {
    if (unread > 0) {
      badge.textContent = String(unread);
      badge.hidden = false;
      launcher.setAttribute(
        "aria-label",
        T.launcher + " (" + (unread === 1 ? T.unreadOne : unread + T.unreadMany) + ")"
      );
    } else {
      badge.hidden = true;
      launcher.removeAttribute("aria-label");
    }
  }

  function showTyping(role, author) {
    typingRole = role;
    typingText.textContent =
      role === "advisor" ? (author || "Rådgivaren") + T.typingAdvisor : T.typingBot;
    typingDots.hidden = false;
    clearTimeout(typingHideTimer);
    typingHideTimer = setTimeout(hideTyping, TYPING_HIDE_AFTER_MS);
  }

  function hideTyping() {
    typingRole = null;
    typingText.textContent = "";
    typingDots.hidden = true;
    clearTimeout(typingHideTimer);
  }

  function setBanner(titleText, bodyText, action) {
    if (!titleText && !bodyText) {
      banner.hidden = true;
      bannerActions.hidden = true;
      return;
    }
    bannerTitle.textContent = titleText || "";
    bannerText.textContent = bodyText || "";
    banner.hidden = false;
    if (action) {
      bannerAction.textContent = action.label;
      bannerAction.hidden = false;
      bannerActions.hidden = false;
      bannerAction.__vfsAction = action.run;
    } else {
      bannerAction.hidden = true;
      bannerActions.hidden = true;
      bannerAction.__vfsAction = null;
    }
  }

  bannerAction.addEventListener("click", function () {
    if (typeof bannerAction.__vfsAction === "function") {
      bannerAction.__vfsAction();
    }
  });

  /** The header's line under the title: the chat's state, unless the connection is down
   * (then it never claims to answer at once). */
  function renderSubtitle() {
    var state = status.state;
    var down = wantConnection && !welcomed;
    if (down) {
      subtitleText.textContent = everWelcomed ? T.reconnectingShort : T.connecting;
    } else {
      subtitleText.textContent = statusSubtitle;
    }
    dot.classList.toggle("is-offline", down || state === "offline" || state === "closed");
  }

  function applyStatus(next) {
    status = next || { state: "bot" };
    var state = status.state;
    advisorLink.hidden = !(state === "bot" || state === "closed");
    if (state === "queued") {
      statusSubtitle = T.subtitleQueued;
      var parts = [];
      if (typeof status.position === "number") {
        parts.push("Du är nummer " + status.position + " i kön.");
      }
      if (status.expected_wait_text) {
        parts.push("Beräknad väntetid: " + status.expected_wait_text + ".");
      }
      setBanner(T.queued, parts.join(" "), {
        label: T.leaveQueue,
        run: function () {
          sendFrame({ type: "cancel_handoff" });
        },
      });
    } else if (state === "advisor") {
      var name = (status.advisor && status.advisor.name) || "En rådgivare";
      statusSubtitle = name + T.advisorSuffix;
      setBanner(null, null);
    } else if (state === "offline") {
      statusSubtitle = T.subtitleOffline;
      setBanner(null, null);
    } else if (state === "closed") {
      statusSubtitle = T.subtitleClosed;
      setBanner(null, null);
    } else {
      statusSubtitle = T.subtitleBot;
      setBanner(null, null);
    }
    renderSubtitle();
    if (state === "offline") {
      showOfflineForm();
    } else {
      offline.hidden = true;
    }
  }

  // ---------------------------------------------------------------- offline form

  var offlineFields = {};
  var offlineError = null;
  var offlineSubmit = null;
  var offlineBuilt = false;

  function field(name, labelText, type, autocomplete, required) {
    var wrap = el("div", "field");
    var id = "vfs-ticket-" + name;
    var label = el("label", null, labelText);
    label.htmlFor = id;
    var control = type === "textarea" ? el("textarea") : el("input");
    control.addEventListener("input", function () {
      control.__vfsEdited = true;
    });
    if (type !== "textarea") {
      control.type = type;
    }
    control.id = id;
    control.name = name;
    if (autocomplete) {
      control.setAttribute("autocomplete", autocomplete);
    }
    if (required) {
      control.required = true;
      control.setAttribute("aria-required", "true");
    }
    var error = el("p", "field-error");
    error.id = id + "-error";
    error.hidden = true;
    control.setAttribute("aria-describedby", error.id);
    wrap.appendChild(label);
    wrap.appendChild(control);
    wrap.appendChild(error);
    offlineFields[name] = { control: control, error: error };
    return wrap;
  }

  function buildOfflineForm() {
    offlineBuilt = true;
    offline.textContent = "";
    var heading = el("h3", null, T.offlineTitle);
    heading.id = "vfs-offline-title";
    offline.appendChild(heading);
    var intro = el("p", "offline-intro");
    offline.appendChild(intro);
    var form = el("form", "offline-form");
    form.noValidate = true;
    form.appendChild(field("question", T.question, "textarea", "off", true));
    var row1 = el("div", "field-row");
    row1.appendChild(field("name", T.name, "text", "name", false));
    row1.appendChild(field("company", T.company, "text", "organization", false));
    form.appendChild(row1);
    var row2 = el("div", "field-row");
    row2.appendChild(field("email", T.email, "email", "email", false));
    row2.appendChild(field("phone", T.phone, "tel", "tel", false));
    form.appendChild(row2);
    var hint = el("p", "offline-hint", T.contactHint);
    form.appendChild(hint);
    offlineError = el("p", "field-error");
    offlineError.setAttribute("role", "alert");
    offlineError.hidden = true;
    form.appendChild(offlineError);
    offlineSubmit = el("button", "primary", T.submitTicket);
    offlineSubmit.type = "submit";
    form.appendChild(offlineSubmit);
    var decline = el("button", "choice offline-decline", T.noThanks);
    decline.type = "button";
    decline.addEventListener("click", function () {
      sendFrame({ type: "cancel_handoff" });
      offline.hidden = true;
      input.focus();
    });
    var declineRow = el("div", "choices");
    declineRow.appendChild(decline);
    form.appendChild(declineRow);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitTicket();
    });
    offline.appendChild(form);
  }

  function showOfflineForm() {
    if (!offlineBuilt) {
      buildOfflineForm();
    }
    var intro = offline.querySelector(".offline-intro");
    var text = T.offlineNoAdvisor + " " + T.offlineBody;
    if (status.opens_text) {
      text += " " + T.offlineOpens + status.opens_text + ".";
    }
    intro.textContent = text;
    if (offline.hidden) {
      offline.hidden = false;
      setTimeout(scrollToEnd, 0);
    }
    // Start with the company's question (the gateway finds it: not "hur kontaktar jag er?"
    // or a click), unless the company has written in the field itself.
    var q = offlineFields.question.control;
    if (status.question && !q.value && !q.__vfsEdited) {
      q.value = status.question;
    }
  }

  function setFieldError(name, message) {
    var f = offlineFields[name];
    if (!f) {
      return;
    }
    f.error.textContent = message || "";
    f.error.hidden = !message;
    if (message) {
      f.control.setAttribute("aria-invalid", "true");
    } else {
      f.control.removeAttribute("aria-invalid");
    }
  }

  function submitTicket() {
    if (ticketPending) {
      return;
    }
    var values = {};
    Object.keys(offlineFields).forEach(function (k) {
      values[k] = offlineFields[k].control.value.trim();
      setFieldError(k, null);
    });
    offlineError.hidden = true;
    var firstBad = null;
    if (!values.question) {
      setFieldError("question", T.needQuestion);
      firstBad = firstBad || "question";
    }
    if (!values.email && !values.phone) {
      setFieldError("email", T.needContact);
      firstBad = firstBad || "email";
    }
    if (values.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email)) {
      setFieldError("email", T.badEmail);
      firstBad = firstBad || "email";
    }
    if (values.phone && !/^[0-9 +\-()]{6,20}$/.test(values.phone)) {
      setFieldError("phone", T.badPhone);
      firstBad = firstBad || "phone";
    }
    if (firstBad) {
      offlineFields[firstBad].control.focus();
      return;
    }
    var item = {
      type: "ticket",
      client_id: newClientId(),
      question: values.question,
      name: values.name || null,
      company: values.company || null,
      email: values.email || null,
      phone: values.phone || null,
    };
    ticketPending = true;
    offlineSubmit.disabled = true;
    offlineSubmit.textContent = T.sendingTicket;
    store.outbox.push(item);
    saveStore();
    ensureConnection();
    flushOutbox();
  }

  function ticketFinished(ok, errorText, fields) {
    if (!ticketPending) {
      return;
    }
    ticketPending = false;
    if (offlineSubmit) {
      offlineSubmit.disabled = false;
      offlineSubmit.textContent = T.submitTicket;
    }
    if (ok) {
      // The gateway's thank-you arrives in the conversation (once): the form just goes.
      offline.hidden = true;
      offlineBuilt = false;
      offline.textContent = "";
      input.focus();
      return;
    }
    if (fields) {
      Object.keys(fields).forEach(function (k) {
        setFieldError(k, fields[k]);
      });
    }
    if (errorText) {
      offlineError.textContent = errorText;
      offlineError.hidden = false;
    }
  }

  // ---------------------------------------------------------------- outbox

  function dropFromOutbox(clientId) {
    var before = store.outbox.length;
    store.outbox = store.outbox.filter(function (item) {
      return item.client_id !== clientId;
    });
    if (store.outbox.length !== before) {
      saveStore();
    }
  }

  function findInOutbox(clientId) {
    for (var i = 0; i < store.outbox.length; i++) {
      if (store.outbox[i].client_id === clientId) {
        return store.outbox[i];
      }
    }
    return null;
  }

  function flushOutbox() {
    if (!ws || ws.readyState !== WebSocket.OPEN || !welcomed) {
      return;
    }
    store.outbox.forEach(function (item) {
      sendFrame(item);
    });
  }

  function sendMessage(text, payload) {
    var clean = (text || "").trim();
    if (!clean) {
      return false;
    }
    var item = { type: "message", client_id: newClientId(), text: clean, payload: payload || null };
    store.outbox.push(item);
    saveStore();
    renderPending(item);
    stopTyping();
    ensureConnection();
    if (welcomed) {
      sendFrame(item);
    }
    return true;
  }

  // ---------------------------------------------------------------- typing (company)

  function noteTyping() {
    if (status.state !== "advisor") {
      return;
    }
    if (!input.value.trim()) {
      stopTyping();
      return;
    }
    var now = Date.now();
    if (!typingSent || now - lastTypingSentAt >= TYPING_SEND_EVERY_MS) {
      if (sendFrame({ type: "typing", typing: true })) {
        typingSent = true;
        lastTypingSentAt = now;
      }
    }
  }

  function stopTyping() {
    if (typingSent) {
      sendFrame({ type: "typing", typing: false });
    }
    typingSent = false;
    lastTypingSentAt = 0;
  }

  // ---------------------------------------------------------------- connection

  function sendFrame(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN || (!welcomed && frame.type !== "hello")) {
      return false;
    }
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  }

  function showConnNotice(text) {
    if (!text) {
      connNotice.hidden = true;
      connNotice.textContent = "";
      return;
    }
    connNotice.textContent = text;
    connNotice.hidden = false;
  }

  function ensureConnection() {
    wantConnection = true;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      return;
    }
    if (reconnectTimer) {
      return;
    }
    connect();
  }

  function connect() {
    reconnectTimer = null;
    welcomed = false;
    var socket;
    try {
      socket = new WebSocket(WS_URL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = socket;
    socket.addEventListener("open", function () {
      if (ws !== socket) {
        return;
      }
      lastFrameAt = Date.now();
      socket.send(
        JSON.stringify({
          type: "hello",
          protocol: PROTOCOL,
          conversation_id: store.conversationId,
          last_seq: maxSeq,
          page: String(window.location.href).slice(0, 500),
        })
      );
    });
    socket.addEventListener("message", function (event) {
      if (ws !== socket) {
        return;
      }
      lastFrameAt = Date.now();
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
      welcomed = false;
      stopHeartbeat();
      hideTyping();
      renderSubtitle();
      scheduleReconnect();
    });
    socket.addEventListener("error", function () {
      /* a close event follows */
    });
  }

  function scheduleReconnect() {
    if (!wantConnection || reconnectTimer) {
      return;
    }
    var base = BACKOFF_MS[Math.min(reconnectAttempt, BACKOFF_MS.length - 1)];
    var delay = Math.round(base * (0.8 + Math.random() * 0.4));
    reconnectAttempt += 1;
    if (reconnectAttempt >= 2 || store.outbox.length) {
      showConnNotice(T.reconnecting);
      renderSubtitle();
    }
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (!wantConnection) {
      return;
    }
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      return;
    }
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    reconnectAttempt = 0;
    connect();
  }

  function startHeartbeat() {
    stopHeartbeat();
    heartbeatTimer = setInterval(function () {
      if (!ws) {
        return;
      }
      if (Date.now() - lastFrameAt > SILENCE_LIMIT_MS) {
        try {
          ws.close();
        } catch (e) {
          /* ignore */
        }
        return;
      }
      sendFrame({ type: "ping" });
    }, HEARTBEAT_MS);
  }

  function stopHeartbeat() {
    clearInterval(heartbeatTimer);
    heartbeatTimer = null;
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "welcome":
        onWelcome(frame);
        break;
      case "message":
        if (frame.message) {
          renderMessage(frame.message);
        }
        break;
      case "ack":
        onAck(frame);
        break;
      case "status":
        replaying = false;
        applyStatus(frame);
        break;
      case "typing":
        if (frame.typing) {
          showTyping(frame.role, frame.author);
        } else if (!typingRole || typingRole === frame.role) {
          hideTyping();
        }
        break;
      case "ticket_created":
        dropFromOutbox(frame.client_id);
        ticketFinished(true);
        break;
      case "erased":
        onErased(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  function onErased(frame) {
    // Forget the conversation here too; the next connection starts a new one.
    Array.prototype.slice.call(log.querySelectorAll(".msg")).forEach(function (n) {
      n.parentNode.removeChild(n);
    });
    maxSeq = 0;
    store = { conversationId: null, lastSeq: 0, outbox: [], open: store.open };
    saveStore();
    eraseBox.hidden = true;
    var note = el("p", "erased-note", (frame && frame.message) || T.erased);
    note.setAttribute("role", "status");
    log.appendChild(note);
    updatePrivacyNotice();
  }

  function onWelcome(frame) {
    var previous = store.conversationId;
    if (previous && frame.conversation_id !== previous) {
      // The server did not know our conversation: a new one starts. Keep unsent items.
      Array.prototype.slice.call(log.querySelectorAll(".msg:not(.msg-pending)")).forEach(
        function (n) {
          n.parentNode.removeChild(n);
        }
      );
      maxSeq = 0;
    }
    store.conversationId = frame.conversation_id;
    store.lastSeq = maxSeq;
    saveStore();
    welcomed = true;
    everWelcomed = true;
    replaying = true;
    reconnectAttempt = 0;
    showConnNotice(null);
    if (frame.privacy) {
      if (typeof frame.privacy.retention_days === "number") {
        privacyDays = frame.privacy.retention_days;
        privacyText.textContent = T.privacyText(privacyDays);
      }
      if (typeof frame.privacy.url === "string" && frame.privacy.url) {
        privacyLink.href = new URL(frame.privacy.url, ORIGIN).href;
      }
    }
    updatePrivacyNotice();
    if (frame.limits && typeof frame.limits.max_message_chars === "number") {
      maxChars = frame.limits.max_message_chars;
      checkLength();
    }
    renderSubtitle();
    if (frame.status) {
      applyStatus(frame.status);
    }
    startHeartbeat();
    flushOutbox();
  }

  function onAck(frame) {
    var item = findInOutbox(frame.client_id);
    dropFromOutbox(frame.client_id);
    var node = pendingBubbles[frame.client_id];
    if (node && typeof frame.seq === "number" && frame.seq <= maxSeq) {
      // The stored message was already rendered (e.g. in a replay): drop the duplicate bubble.
      removePending(frame.client_id);
    }
    if (item && item.type === "ticket") {
      ticketFinished(true);
    }
  }

  function onError(frame) {
    var clientId = frame.client_id;
    var item = clientId ? findInOutbox(clientId) : null;
    if (frame.code === "rate_limited" && item) {
      clearTimeout(resendTimer);
      resendTimer = setTimeout(flushOutbox, Math.max(1, frame.retry_after || 3) * 1000);
      showConnNotice(frame.message || null);
      setTimeout(function () {
        showConnNotice(null);
      }, Math.max(1, frame.retry_after || 3) * 1000);
      return;
    }
    if (clientId) {
      dropFromOutbox(clientId);
    }
    if (item && item.type === "ticket") {
      ticketFinished(false, frame.fields ? null : frame.message, frame.fields || null);
      return;
    }
    if (item && item.type === "message") {
      removePending(clientId);
      if (frame.code === "message_too_long" && !input.value) {
        input.value = item.text;
        checkLength();
      }
    }
    if (frame.message) {
      var note = buildMessage({ role: "system", text: frame.message, buttons: [] }, false);
      note.classList.add("msg-error");
      log.appendChild(note);
      scrollToEnd();
    }
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      reconnectNow();
    }
  });

  // ---------------------------------------------------------------- open / close

  function openPanel(focusInput) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    updateBadge();
    store.open = true;
    saveStore();
    ensureConnection();
    if (!ws || !welcomed) {
      if (!store.conversationId) {
        showConnNotice(null);
      }
    }
    scrollToEnd();
    if (focusInput) {
      input.focus();
    }
  }

  function closePanel() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    store.open = false;
    saveStore();
    stopTyping();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    openPanel(true);
  });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      event.stopPropagation();
      closePanel();
    }
  });

  eraseLink.addEventListener("click", function () {
    eraseBox.hidden = false;
    eraseNo.focus();
  });
  eraseNo.addEventListener("click", function () {
    eraseBox.hidden = true;
    eraseLink.focus();
  });
  eraseYes.addEventListener("click", function () {
    if (!store.conversationId) {
      onErased(null);
      return;
    }
    sendFrame({ type: "erase" });
  });

  advisorLink.addEventListener("click", function () {
    sendMessage(T.askAdvisorText, "gateway:request_advisor");
    input.focus();
  });

  // ---------------------------------------------------------------- composer

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 128) + "px";
  }

  /** Over the limit: say so, and keep the text (a paste is never cut). */
  function checkLength() {
    var length = input.value.trim().length;
    var over = length > maxChars;
    if (over) {
      limitNote.textContent = T.tooLong(length, maxChars);
      limitNote.className = "limit-note is-over";
      input.setAttribute("aria-invalid", "true");
    } else if (length >= maxChars * 0.9) {
      limitNote.textContent = T.nearLimit(length, maxChars);
      limitNote.className = "limit-note";
      input.removeAttribute("aria-invalid");
    } else {
      limitNote.textContent = "";
      input.removeAttribute("aria-invalid");
    }
    limitNote.hidden = !limitNote.textContent;
    return !over;
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!checkLength()) {
      input.focus();
      return;
    }
    var typed = input.value.trim();
    if (sendMessage(typed, null)) {
      input.value = "";
      autoGrow();
      checkLength();
    }
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof composer.requestSubmit === "function") {
        composer.requestSubmit();
      } else {
        composer.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }
  });

  input.addEventListener("input", function () {
    autoGrow();
    checkLength();
    noteTyping();
  });

  input.addEventListener("blur", stopTyping);

  // ---------------------------------------------------------------- start

  // Unsent messages from an earlier page view are shown as pending and sent on connect.
  store.outbox.forEach(function (item) {
    if (item.type === "message") {
      renderPending(item);
    }
  });

  if (store.conversationId || store.outbox.length) {
    // A conversation exists: reconnect now, so live replies (and the unread badge) arrive
    // even while the panel is closed; the history is replayed from seq 0.
    ensureConnection();
  }
  if (store.open) {
    openPanel(false);
  }

  // For tests and host pages: a tiny, read-only view of the widget's state.
  window.VfsChat = {
    open: function () {
      openPanel(true);
    },
    close: closePanel,
    state: function () {
      return {
        conversationId: store.conversationId,
        lastSeq: maxSeq,
        outbox: store.outbox.length,
        connected: welcomed,
        status: status.state,
      };
    },
  };
})();
