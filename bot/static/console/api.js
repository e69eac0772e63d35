/*
 * Advisor console – the HTTP API (docs/gateway-protocol.md, section 4) and the session.
 */
(function (K) {
  "use strict";

  var BASE = "/console/api";

  var DEFAULT_OUTCOMES = [
    { code: "resolved", label: "Löst" },
    { code: "referred", label: "Hänvisad vidare" },
    { code: "callback", label: "Återkoppling bokad" },
    { code: "no_response", label: "Inget svar från företaget" },
    { code: "other", label: "Annat" },
  ];

  K.session = {
    csrf: null,
    advisor: null,
    outcomes: DEFAULT_OUTCOMES,
    channels: { widget: "Webb", rest: "API", slack: "Slack", teams: "Teams" },
    inbox: { queue_wait_alert_seconds: 180, max_chats_default: 3, transcript_email: false, max_message_chars: 2000 },
  };

  function ApiError(status, code, message, fields) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.fields = fields || {};
  }

  var onUnauthorized = function () {};

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (K.session.csrf) {
        headers["X-CSRF-Token"] = K.session.csrf;
      }
    }
    return fetch(BASE + path, {
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
              onUnauthorized(err.message || "Du måste logga in.");
            }
            throw new ApiError(
              res.status,
              err.code || "http_" + res.status,
              err.message || "Något gick fel (" + res.status + "). Försök igen.",
              err.fields
            );
          });
      },
      function () {
        throw new ApiError(0, "network", "Kunde inte nå servern. Kontrollera anslutningen.");
      }
    );
  }

  function applySession(data) {
    var s = K.session;
    s.csrf = data.csrf_token || s.csrf;
    s.advisor = data.advisor || null;
    if (Array.isArray(data.outcomes) && data.outcomes.length) {
      s.outcomes = data.outcomes;
    }
    if (data.channels && typeof data.channels === "object") {
      s.channels = data.channels;
    }
    if (data.inbox && typeof data.inbox === "object") {
      s.inbox = data.inbox;
    }
    return data;
  }

  function conversationPath(id, rest) {
    return "/conversations/" + encodeURIComponent(id) + (rest || "");
  }

  K.api = {
    request: api,
    get: function (path) {
      return api("GET", path);
    },
    post: function (path, body) {
      return api("POST", path, body);
    },
    put: function (path, body) {
      return api("PUT", path, body);
    },
    del: function (path) {
      return api("DELETE", path);
    },
    conversationPath: conversationPath,
    applySession: applySession,
    onUnauthorized: function (handler) {
      onUnauthorized = handler;
    },
    ApiError: ApiError,
  };
})((window.Konsol = window.Konsol || {}));
