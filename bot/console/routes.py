"""The advisor console's URLs (docs/gateway-protocol.md, sections 4 and 5)."""

from __future__ import annotations

from aiohttp import web

from bot.console import lists, team, tools
from bot.console import views as console
from bot.console import ws as console_ws
from bot.console.background import inbox_context
from bot.web.pages import html_page


def setup_console(app: web.Application) -> None:
    router = app.router
    router.add_get("/console", html_page("console.html"), name="console")
    router.add_get("/console/ws", console_ws.console_ws, name="console_ws")
    router.add_get("/console/api/session", console.session, name="console_session")
    router.add_post("/console/api/login", console.login, name="console_login")
    router.add_post("/console/api/logout", console.logout, name="console_logout")
    router.add_get("/console/api/queue", console.queue, name="console_queue")
    router.add_get("/console/api/conversations", console.conversations, name="console_conversations")
    router.add_get("/console/api/conversations/{id}", console.conversation, name="console_conversation")
    router.add_get(
        "/console/api/conversations/{id}/messages",
        console.conversation_messages,
        name="console_conversation_messages",
    )
    router.add_post("/console/api/conversations/{id}/claim", console.claim, name="console_claim")
    router.add_post("/console/api/conversations/{id}/messages", console.post_message, name="console_message")
    router.add_post("/console/api/conversations/{id}/handback", console.hand_back, name="console_handback")
    router.add_post("/console/api/conversations/{id}/release", console.release, name="console_release")
    router.add_post("/console/api/conversations/{id}/close", console.close, name="console_close")
    router.add_get("/console/api/tickets", console.tickets, name="console_tickets")
    router.add_post("/console/api/tickets/{id}/done", console.ticket_done, name="console_ticket_done")
    # The inbox: closed chats, colleagues and presence, transfers, notes, canned replies,
    # the suggested referral, the company's details.
    router.add_get("/console/api/closed", lists.closed, name="console_closed")
    router.add_get("/console/api/advisors", team.advisors, name="console_advisors")
    router.add_post("/console/api/presence", team.set_presence, name="console_presence")
    router.add_post("/console/api/conversations/{id}/transfer", team.transfer, name="console_transfer")
    router.add_post("/console/api/conversations/{id}/notes", tools.post_note, name="console_note")
    router.add_get("/console/api/conversations/{id}/suggestion", tools.suggest, name="console_suggestion")
    router.add_post("/console/api/conversations/{id}/company", tools.set_company, name="console_company")
    router.add_get("/console/api/canned", tools.canned_list, name="console_canned")
    router.add_post("/console/api/canned", tools.canned_create, name="console_canned_create")
    router.add_put("/console/api/canned/{canned_id}", tools.canned_update, name="console_canned_update")
    router.add_delete("/console/api/canned/{canned_id}", tools.canned_delete, name="console_canned_delete")
    # Started after the conversation core (create_app appends the core's contexts first).
    app.cleanup_ctx.append(inbox_context)
