/*
 * Advisor console – canned replies: "/" in the reply box searches them (arrows choose,
 * Enter inserts, Esc closes), with the chat's placeholders filled in by the server; a
 * placeholder it could not fill stays in the text, is selected, and blocks sending until
 * the advisor has replaced it. The "Snabbsvar" dialog adds, changes and removes them.
 */
(function (K) {
  "use strict";

  var u = K.util;
  var items = []; // canned replies for the open chat: {id, title, body, text, missing}
  var placeholders = {}; // name -> what it stands for
  var forConversation = null;
  var open = false;
  var active = 0;
  var matches = [];
  var slash = null; // {start, end} of "/query" in the textarea
  var editing = null; // id of the canned reply being edited in the dialog

  function input() {
    return u.$("reply-input");
  }

  function load(conversationId) {
    forConversation = conversationId;
    var path = "/canned" + (conversationId ? "?conversation_id=" + encodeURIComponent(conversationId) : "");
    return K.api
      .get(path)
      .then(function (data) {
        if (forConversation !== conversationId) {
          return;
        }
        items = Array.isArray(data.canned) ? data.canned : [];
        placeholders = data.placeholders || {};
      })
      .catch(function () {});
  }

  function fold(text) {
    return String(text || "").toLocaleLowerCase("sv-SE");
  }

  var SHOWN = 8; // the list never scrolls: type more to narrow it

  /** Every word in the title or the text; titles that start with the query first, then
   * titles that contain it, then the rest (each group in title order). */
  function search(query) {
    var q = fold(query).trim();
    var words = q.split(/\s+/).filter(Boolean);
    function rank(c) {
      var title = fold(c.title);
      return title.indexOf(q) === 0 ? 0 : title.indexOf(q) > 0 ? 1 : 2;
    }
    return items
      .filter(function (c) {
        var hay = fold(c.title + "\n" + c.body);
        return words.every(function (w) {
          return hay.indexOf(w) >= 0;
        });
      })
      .map(function (c, i) {
        return { c: c, rank: rank(c), i: i };
      })
      .sort(function (a, b) {
        return a.rank - b.rank || a.i - b.i;
      })
      .map(function (x) {
        return x.c;
      })
      .slice(0, SHOWN);
  }

  /** The "/query" just before the caret, if the advisor is asking for a canned reply. */
  function slashQuery() {
    var box = input();
    var caret = box.selectionStart;
    if (caret !== box.selectionEnd) {
      return null;
    }
    var before = box.value.slice(0, caret);
    var m = /(^|\s)\/([^\n/]{0,40})$/.exec(before);
    if (!m) {
      return null;
    }
    var start = caret - m[2].length - 1;
    return { start: start, end: caret, query: m[2] };
  }

  function render() {
    var list = u.$("canned-list");
    u.clear(list);
    matches.forEach(function (c, i) {
      var li = u.el("li");
      li.id = "canned-opt-" + c.id;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.appendChild(u.el("span", "canned-title", c.title));
      li.appendChild(u.el("span", "canned-preview", c.text || c.body));
      li.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the reply box
        active = i;
        insert();
      });
      list.appendChild(li);
    });
    var box = input();
    if (matches.length) {
      box.setAttribute("aria-activedescendant", "canned-opt-" + matches[active].id);
    } else {
      box.removeAttribute("aria-activedescendant");
      list.appendChild(u.el("li", "canned-none", "Inget snabbsvar matchar."));
    }
  }

  function show(query, range) {
    slash = range;
    matches = search(query);
    active = Math.min(active, Math.max(0, matches.length - 1));
    open = true;
    u.$("canned-popup").hidden = false;
    u.$("canned-open").setAttribute("aria-expanded", "true");
    render();
  }

  function close() {
    if (!open) {
      return;
    }
    open = false;
    slash = null;
    active = 0;
    u.$("canned-popup").hidden = true;
    u.$("canned-open").setAttribute("aria-expanded", "false");
    input().removeAttribute("aria-activedescendant");
  }

  /** Opens the list from the button (or a shortcut), as if "/" had been typed. */
  function openList() {
    var box = input();
    box.focus();
    var caret = box.value.length;
    box.setSelectionRange(caret, caret);
    var needsSpace = caret > 0 && !/\s$/.test(box.value);
    box.value += (needsSpace ? " " : "") + "/";
    caret = box.value.length;
    box.setSelectionRange(caret, caret);
    onInput();
  }

  function insert() {
    var chosen = matches[active];
    if (!chosen) {
      return;
    }
    var box = input();
    var range = slash || { start: box.selectionStart, end: box.selectionEnd };
    var text = chosen.text || chosen.body;
    box.value = box.value.slice(0, range.start) + text + box.value.slice(range.end);
    var caret = range.start + text.length;
    close();
    box.focus();
    var missing = unfilled(box.value);
    if (missing.length) {
      var first = box.value.indexOf("{" + missing[0] + "}");
      box.setSelectionRange(first, first + missing[0].length + 2);
    } else {
      box.setSelectionRange(caret, caret);
    }
    box.dispatchEvent(new Event("input", { bubbles: true }));
    warn();
    u.announce("Snabbsvaret " + chosen.title + " är infogat.");
  }

  /** The known placeholders still in the text (the advisor must fill them in). */
  function unfilled(text) {
    var found = [];
    var re = /\{([a-zåäö_]+)\}/g;
    var m;
    while ((m = re.exec(text)) !== null) {
      if (Object.prototype.hasOwnProperty.call(placeholders, m[1]) && found.indexOf(m[1]) < 0) {
        found.push(m[1]);
      }
    }
    return found;
  }

  function warningText(missing) {
    return (
      "Fyll i " +
      missing
        .map(function (name) {
          return "{" + name + "} (" + placeholders[name] + ")";
        })
        .join(", ") +
      " innan du skickar."
    );
  }

  function warn() {
    var missing = unfilled(input().value);
    var node = u.$("reply-warning");
    if (missing.length) {
      node.textContent = warningText(missing);
      node.classList.add("is-warning");
    } else if (node.classList.contains("is-warning")) {
      node.textContent = "";
      node.classList.remove("is-warning");
    }
    return missing;
  }

  function onInput() {
    var found = slashQuery();
    if (found && items.length) {
      show(found.query, found);
    } else {
      close();
    }
    warn();
  }

  /** Keys in the reply box while the list is open; true when the key was used here. */
  function onKeydown(event) {
    if (!open) {
      return false;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (matches.length) {
        var step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + matches.length) % matches.length;
        render();
      }
      event.preventDefault();
      return true;
    }
    if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && matches.length) {
      event.preventDefault();
      insert();
      return true;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- the management dialog

  function placeholderHelp() {
    var names = Object.keys(placeholders);
    u.$("canned-placeholders").textContent = names.length
      ? "Platshållare: " +
        names
          .map(function (n) {
            return "{" + n + "} = " + placeholders[n];
          })
          .join(", ") +
        "."
      : "";
  }

  function resetForm() {
    editing = null;
    u.$("canned-form-rubrik").textContent = "Nytt snabbsvar";
    u.$("canned-title").value = "";
    u.$("canned-body").value = "";
    u.$("canned-error").textContent = "";
  }

  function renderAdmin(all) {
    var list = u.$("canned-admin-list");
    u.clear(list);
    all.forEach(function (c) {
      var li = u.el("li");
      li.appendChild(u.el("p", "canned-title", c.title));
      li.appendChild(u.el("p", "canned-body", c.body));
      var edit = u.el("button", "ghost small", "Ändra");
      edit.type = "button";
      edit.setAttribute("aria-label", "Ändra snabbsvaret " + c.title);
      edit.addEventListener("click", function () {
        editing = c.id;
        u.$("canned-form-rubrik").textContent = "Ändra snabbsvaret " + c.title;
        u.$("canned-title").value = c.title;
        u.$("canned-body").value = c.body;
        u.$("canned-title").focus();
      });
      var remove = u.el("button", "ghost small danger-text", "Ta bort");
      remove.type = "button";
      remove.setAttribute("aria-label", "Ta bort snabbsvaret " + c.title);
      remove.addEventListener("click", function () {
        K.api
          .del("/canned/" + encodeURIComponent(c.id))
          .then(function () {
            u.announce("Snabbsvaret " + c.title + " är borttaget.");
            refreshAdmin();
          })
          .catch(function (err) {
            u.$("canned-error").textContent = err.message;
          });
      });
      li.appendChild(edit);
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  function refreshAdmin() {
    return K.api.get("/canned").then(function (data) {
      placeholders = data.placeholders || placeholders;
      placeholderHelp();
      renderAdmin(Array.isArray(data.canned) ? data.canned : []);
      load(forConversation);
    });
  }

  function openDialog() {
    resetForm();
    refreshAdmin().catch(function () {});
    u.$("canned-dialog").showModal();
    u.$("canned-title").focus();
  }

  function init() {
    var box = input();
    box.addEventListener("input", onInput);
    box.addEventListener("blur", function () {
      // Later, so a click in the list still counts; not if the advisor is back in the box.
      setTimeout(function () {
        if (document.activeElement !== box) {
          close();
        }
      }, 150);
    });
    u.$("canned-open").addEventListener("click", openList);
    u.$("canned-manage").addEventListener("click", openDialog);
    u.$("canned-close").addEventListener("click", function () {
      u.$("canned-dialog").close();
      u.$("canned-manage").focus();
    });
    u.$("canned-new").addEventListener("click", function () {
      resetForm();
      u.$("canned-title").focus();
    });
    u.$("canned-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { title: u.$("canned-title").value, body: u.$("canned-body").value };
      var request = editing
        ? K.api.put("/canned/" + encodeURIComponent(editing), body)
        : K.api.post("/canned", body);
      request
        .then(function (data) {
          u.announce("Snabbsvaret " + data.canned.title + " är sparat.");
          resetForm();
          return refreshAdmin();
        })
        .catch(function (err) {
          u.$("canned-error").textContent = err.message;
        });
    });
  }

  K.canned = {
    init: init,
    load: load,
    onKeydown: onKeydown,
    isOpen: function () {
      return open;
    },
    close: close,
    openList: openList,
    unfilled: unfilled,
    warningText: warningText,
    warn: warn,
  };
})((window.Konsol = window.Konsol || {}));
