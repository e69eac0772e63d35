"""Delivery of company and advisor messages to Rasa, in order, once per conversation.

Messages are stored before Rasa sees them (`Message.rasa_status` is the outbox towards
Rasa's tracker: pending → processing → done | failed | skipped), so nothing is lost when
Rasa or the gateway restarts. One worker task per conversation in this process takes the
oldest pending message; a claim is a conditional UPDATE, so replicas never take the same
message, and a message stuck in `processing` past the Rasa timeout is taken again.

While an advisor owns the chat the company's messages still reach the paused Rasa
conversation (recorded, not answered) and the advisor's replies are appended to its
tracker, so the bot continues with the whole context after a hand-back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Integer, bindparam, case, func, select, true, update
from sqlalchemy.exc import DBAPIError

from bot import texts
from bot.conversation import events, outbox, store
from bot.conversation.context import CoreContext
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, Message
from bot.conversation.rasa_client import RasaClient, RasaUnavailable
from bot.conversation.store import StoredMessage
from bot.rules import queue as rules
from core.transactions import Prepared, Tx

log = logging.getLogger(__name__)

# Payloads the gateway acts on itself; Rasa never sees them.
GATEWAY_PAYLOAD = "gateway:"
REQUEST_ADVISOR = "gateway:request_advisor"
# What the bot's own "Prata med en rådgivare" button sends (its request_human intent).
BOT_REQUEST_HUMAN = "/request_human"

# A company message the bot could not take (Rasa or the action server down): delivered
# when the bot is back (`retry_when_back`, or the conversation's next message).
RETRY = "retry"
UNFINISHED = store.RASA_UNFINISHED
# Tries of a transaction while the database restarts (about a minute in all).
DB_ATTEMPTS = 14
T = TypeVar("T")
# What `_claim_next` says when another process holds the conversation's current turn.
BUSY = True
# How often a worker looks again while another process holds the conversation's turn.
BUSY_POLL_SECONDS = 0.05
BUSY_POLL_MAX_SECONDS = 2.0

_CONVERSATIONS = store.CONVERSATIONS.c
_MESSAGES = store.MESSAGES.c


def _number_replies(hands_off: bool) -> Any:
    """The bot's replies are numbered (`b_count` of them) only while the bot still owns
    the chat; the conversation's state comes back with the last number."""
    bot_owns = _CONVERSATIONS.state.in_(store.literals((rules.BOT, rules.OFFLINE)))
    values: dict[str, Any] = {
        "last_seq": _CONVERSATIONS.last_seq + case((bot_owns, bindparam("b_count", type_=Integer)), else_=0)
    }
    if hands_off:
        values["rasa_paused"] = true()
    return (
        update(store.CONVERSATIONS)
        .where(_CONVERSATIONS.id == bindparam("b_id"))
        .values(**values)
        .returning(_CONVERSATIONS.state, _CONVERSATIONS.last_seq)
    )


_NUMBER_REPLIES = Prepared(_number_replies(hands_off=False))
_NUMBER_REPLIES_PAUSED = Prepared(_number_replies(hands_off=True))
_STATE = Prepared(select(_CONVERSATIONS.state).where(_CONVERSATIONS.id == bindparam("b_id")))
_SET_STATUS = Prepared(
    update(store.MESSAGES)
    .where(_MESSAGES.id == bindparam("b_id"))
    .values(rasa_status=bindparam("b_status", type_=_MESSAGES.rasa_status.type))
)


def _oldest_unfinished(statuses: tuple[str, ...]) -> Any:
    """The conversation's two oldest messages in these Rasa statuses, each with the
    conversation's state, rasa_paused, channel and page after the message's columns."""
    return (
        select(*store.MESSAGES.columns, _CONVERSATIONS.state, _CONVERSATIONS.rasa_paused,
               _CONVERSATIONS.channel, _CONVERSATIONS.page)
        .join(store.CONVERSATIONS, _CONVERSATIONS.id == _MESSAGES.conversation_id)
        .where(
            _MESSAGES.conversation_id == bindparam("b_id"),
            _MESSAGES.rasa_status.in_(store.literals(statuses)),
        )
        .order_by(_MESSAGES.seq)
        .limit(2)
    )


_OLDEST_UNFINISHED = _oldest_unfinished(UNFINISHED)
# While the bot is down, only what needs no bot goes on (messages waiting for it stay).
_OLDEST_FOR_BOT = _oldest_unfinished(("pending", "processing"))
# A claim wins only if the message is still as it was read (status, and start if any).
_CLAIM = (
    update(store.MESSAGES)
    .where(_MESSAGES.id == bindparam("b_id"), _MESSAGES.rasa_status == bindparam("b_status"))
    .values(rasa_status="processing", rasa_started_at=bindparam("b_now", type_=_MESSAGES.rasa_started_at.type))
)
_CLAIM_STARTED = _CLAIM.where(_MESSAGES.rasa_started_at == bindparam("b_started"))

HandOff = Callable[[str, str, "dict[str, Any] | None", bool], Awaitable[None]]
Reopen = Callable[[str], Awaitable[None]]


class RasaWorker:
    def __init__(self, ctx: CoreContext, rasa: RasaClient) -> None:
        self.ctx = ctx
        self.rasa = rasa
        # Set once the ownership part exists (they call each other).
        self.hand_off: HandOff | None = None
        self.reopen: Reopen | None = None
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._inflight: dict[str, int] = {}
        self._more: dict[str, bool] = {}
        # The conversation as the claim read it, by message id, for the turn that follows.
        self._conversation: dict[int, tuple[str, bool, str, str | None]] = {}
        # A message stored already claimed (`can_take`, `take`), by conversation id.
        self._taken: dict[str, StoredMessage] = {}
        # A pull channel's caller waiting for its turn's answer (`wait_and_take`), by
        # conversation id: given the unread messages taken with the bot's replies.
        self._pull: dict[str, asyncio.Future[list[StoredMessage]]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # ------------------------------------------------------------------ scheduling

    def kick(self, conversation_id: str) -> asyncio.Task[None] | None:
        """Make sure a worker delivers this conversation's pending messages, in order."""
        if self._stopping:
            return None  # after the restart, `kick_forgotten` picks it up
        task = self._workers.get(conversation_id)
        if task is not None and not task.done():
            self._dirty.add(conversation_id)
            return task
        task = asyncio.create_task(self._drain(conversation_id), name=f"drain-{conversation_id}")
        self._workers[conversation_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._workers.get(conversation_id) is done:
                del self._workers[conversation_id]

        task.add_done_callback(forget)
        return task

    def can_take(self, conversation_id: str) -> bool:
        """Whether a company message of this conversation may be stored already claimed
        by this process (`take`), sparing the worker its claim transaction: nothing of the
        conversation is under way here. The caller checks, in the transaction that
        stores it, that no message of the conversation is unfinished anywhere."""
        task = self._workers.get(conversation_id)
        return not self._stopping and (task is None or task.done()) and conversation_id not in self._taken

    def take(self, message: StoredMessage, conversation: tuple[str, bool, str, str | None]) -> None:
        """Deliver a message stored as `processing` by this process (see `can_take`);
        `conversation` is its state, rasa_paused, channel and page."""
        self._taken[message.conversation_id] = message
        self._conversation[message.id] = conversation
        self.kick(message.conversation_id)  # while stopping, `stop` puts it back to pending

    async def wait_delivered(self, conversation_id: str) -> None:
        """Wait until this process has nothing left to deliver for the conversation."""
        while True:
            task = self._workers.get(conversation_id)
            if task is None or task.done():
                return
            await asyncio.shield(task)

    async def wait_and_take(self, conversation_id: str) -> list[StoredMessage] | None:
        """`wait_delivered` for a pull channel's caller (REST), which then wants the
        conversation's unread messages: taken, and the channel's cursor moved, in the
        transaction that stores the bot's replies when nothing else follows the turn (one
        transaction fewer per turn). None when they were not: the caller takes them
        itself (`Outbox.take_unread`)."""
        if conversation_id in self._pull:  # another caller's: this one waits, then takes
            await self.wait_delivered(conversation_id)
            return None
        pull: asyncio.Future[list[StoredMessage]] = asyncio.get_running_loop().create_future()
        self._pull[conversation_id] = pull
        try:
            # Back as soon as the messages are taken: what the worker still does for the
            # turn (its live events) is not the caller's, and the answer is out sooner.
            while not pull.done():
                task = self._workers.get(conversation_id)
                if task is None or task.done():
                    break
                await asyncio.wait((task, pull), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if self._pull.get(conversation_id) is pull:
                del self._pull[conversation_id]
            if not pull.done():  # the worker is done, or the caller is gone: nothing is taken for it
                pull.cancel()
        if not pull.cancelled():
            return pull.result()
        return None

    async def kick_forgotten(self) -> None:
        """Restart delivery for messages left behind (a crash, a lost worker)."""
        now = self.ctx.now()
        stale = now - dt.timedelta(seconds=self.ctx.config.rasa_timeout_seconds + 30)
        async with self.ctx.sessions() as s:
            ids = await store.conversations_with_pending(s, now - dt.timedelta(seconds=5), stale)
        for conversation_id in ids:
            self.kick(conversation_id)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a follow-up in the background; `stop` waits for it."""
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop(self, grace: float = 1.0) -> None:
        """Let the workers finish the message in hand for a moment, then cancel them (a
        worker waiting for Rasa holds no database call); what they did not finish goes
        back to `pending`, to be delivered after the restart."""
        self._stopping = True
        tasks = [*self._workers.values(), *self._background]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        held = [*self._inflight.values(), *(m.id for m in self._taken.values())]
        if held:
            async with self.ctx.sessions.begin() as s:
                await store.updated(
                    s,
                    update(Message)
                    .where(Message.id.in_(held), Message.rasa_status == "processing")
                    .values(rasa_status="pending", rasa_started_at=None),
                )
            self._inflight.clear()
            self._taken.clear()

    # ------------------------------------------------------------------ pause and resume

    async def set_paused(self, conversation_id: str, paused: bool) -> None:
        """Pause or resume the Rasa conversation; remember it only when Rasa confirmed."""
        try:
            if paused:
                await self.rasa.pause(conversation_id)
            else:
                await self.rasa.resume(conversation_id)
        except RasaUnavailable as exc:
            log.warning("could not %s Rasa for %s: %s", "pause" if paused else "resume", conversation_id, exc)
            return
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s, update(Conversation).where(Conversation.id == conversation_id).values(rasa_paused=paused)
            )

    async def sync_then_resume(self, conversation_id: str) -> None:
        """Record the advisor's replies in Rasa (retrying failed ones), then resume the bot."""
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s,
                update(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.role == "advisor",
                    Message.rasa_status == "failed",
                )
                .values(rasa_status="pending"),
            )
        self.kick(conversation_id)
        await self.wait_delivered(conversation_id)
        async with self.ctx.sessions() as s:
            state = await s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
        if state in (rules.BOT, rules.CLOSED, rules.OFFLINE):
            await self.set_paused(conversation_id, False)

    # ------------------------------------------------------------------ the worker

    async def _drain(self, conversation_id: str) -> None:
        bot_down = False  # once it is, only what needs no bot goes on (an advisor request)
        busy_wait = BUSY_POLL_SECONDS
        while not self._stopping:
            self._dirty.discard(conversation_id)
            taken = self._taken.pop(conversation_id, None)
            try:
                claimed = taken or await self._claim_next(conversation_id, with_retry=not bot_down)
            except (DBAPIError, OSError) as exc:  # the sweeper kicks the conversation again
                log.warning("database unavailable while claiming for %s: %s", conversation_id, type(exc).__name__)
                return
            if claimed is BUSY:
                # Usually a turn of a few hundred milliseconds; a process that died in the
                # middle of one holds it until its claim is stale: look less and less often.
                await asyncio.sleep(busy_wait)
                busy_wait = min(busy_wait * 2, BUSY_POLL_MAX_SECONDS)
                continue
            busy_wait = BUSY_POLL_SECONDS
            if not isinstance(claimed, StoredMessage):
                self._more.pop(conversation_id, None)
                if conversation_id in self._dirty:
                    continue
                return
            message = claimed
            # Kept on cancellation: `stop` puts the message back to pending.
            self._inflight[conversation_id] = message.id
            go_on = True
            try:
                if message.role == "advisor":
                    await self._deliver_advisor(message)
                else:
                    go_on = await self._deliver_user(message)
            except asyncio.CancelledError:
                raise
            except (DBAPIError, OSError) as exc:
                # The database is away: the message stays claimed and is taken again once
                # the claim is stale (the sweeper); nothing is marked failed.
                log.warning("database unavailable while delivering message %s: %s", message.id, type(exc).__name__)
                self._inflight.pop(conversation_id, None)
                return
            except Exception:
                log.exception("delivering message %s failed", message.id)
                await self._finish(message.id, "failed")
            self._inflight.pop(conversation_id, None)
            self._conversation.pop(message.id, None)
            bot_down = bot_down or not go_on
            if not bot_down and conversation_id not in self._dirty and not self._more.pop(conversation_id, False):
                return

    async def _claim_next(self, conversation_id: str, with_retry: bool = True) -> StoredMessage | bool | None:
        """Claim the conversation's oldest unfinished message: the message, None when there
        is nothing to do (or another process won it), or BUSY when another process is in
        the middle of a turn of this conversation. Looking at the oldest unfinished message
        (in flight ones included) keeps turns in order and one at a time across replicas:
        the conditional UPDATE lets one process win it, and nobody skips past a turn that
        is still being processed."""
        now = self.ctx.now()
        stale = now - dt.timedelta(seconds=self.ctx.config.rasa_timeout_seconds + 30)
        async with self.ctx.sessions.begin() as s:
            # The conversation's row comes along (one round trip): the turn needs its state.
            found = (
                await s.execute(_OLDEST_UNFINISHED if with_retry else _OLDEST_FOR_BOT, {"b_id": conversation_id})
            ).all()
            # A second one waits: the worker claims again after this turn (else it stops
            # without one more query; a message stored later kicks it again).
            self._more[conversation_id] = len(found) > 1
            if not found:
                return None
            row = found[0]
            candidate = StoredMessage._make(row[: len(store.MESSAGE_FIELDS)])
            state, paused, channel, page = row[len(store.MESSAGE_FIELDS):]
            if candidate.rasa_status == "processing" and (
                candidate.rasa_started_at is None or candidate.rasa_started_at >= stale
            ):
                return BUSY
            claim, params = _CLAIM, {"b_id": candidate.id, "b_status": candidate.rasa_status, "b_now": now}
            if candidate.rasa_started_at is not None:
                claim, params = _CLAIM_STARTED, {**params, "b_started": candidate.rasa_started_at}
            won = cast(CursorResult[Any], await s.execute(claim, params)).rowcount
            if not won:
                return None
            # Kept only for a claim won: a busy or lost one would leave it behind for good.
            self._conversation[candidate.id] = (str(state), bool(paused), str(channel), page)
            return candidate

    async def _postpone(self, message: StoredMessage) -> None:
        """The bot could not take this message: it and the company's later messages wait
        (status `retry`) until the bot is back, then go to Rasa in order, once."""
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s,
                update(Message)
                .where(
                    Message.conversation_id == message.conversation_id,
                    Message.seq >= message.seq,
                    Message.role == "user",
                    Message.rasa_status.in_(("pending", "processing")),
                    # An advisor request needs no bot: it goes on while the bot is down.
                    ~func.coalesce(Message.payload, "").startswith(GATEWAY_PAYLOAD),
                )
                .values(rasa_status=RETRY, rasa_started_at=None),
            )

    async def bot_is_up(self) -> bool:
        """Rasa answers, and so does the action server (when its address is known)."""
        if not await self.rasa.healthy():
            return False
        url = self.ctx.config.actions_health_url
        return not url or await self.rasa.reachable(url)

    async def retry_when_back(self) -> list[str]:
        """Deliver the messages that waited for the bot once it answers again; messages
        older than the retry window are left unanswered (`failed`). Returns the
        conversations kicked."""
        now = self.ctx.now()
        oldest = now - dt.timedelta(seconds=self.ctx.config.bot_retry_window_seconds)
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s,
                update(Message)
                .where(Message.rasa_status == RETRY, Message.created_at < oldest)
                .values(rasa_status="failed"),
            )
            waiting = select(Message.conversation_id).where(Message.rasa_status == RETRY).distinct().limit(500)
            ids = list(await s.scalars(waiting))
        if not ids or not await self.bot_is_up():
            return []
        for conversation_id in ids:
            self.kick(conversation_id)
        return ids

    async def _finish(self, message_id: int, status: str) -> None:
        await self.ctx.transaction(lambda tx: tx.execute(_SET_STATUS, {"b_id": message_id, "b_status": status}))

    async def _deliver_advisor(self, message: StoredMessage) -> None:
        try:
            await self.rasa.record_advisor(message.conversation_id, message.text or "", message.author or "")
        except RasaUnavailable as exc:
            log.warning("could not record advisor message %s in Rasa: %s", message.id, exc)
            await self._finish(message.id, "failed")
            return
        await self._finish(message.id, "done")

    async def _deliver_user(self, message: StoredMessage) -> bool:
        """One company message to Rasa; False when the bot is down and the conversation's
        messages wait for it."""
        conversation_id = message.conversation_id
        state, paused, channel, page = self._conversation.pop(message.id)
        # The company asks for an advisor with the gateway's own button. While the bot is
        # up the request goes through it, like its own button: its hand-off summary then
        # says what it understood and whom it referred to (the gateway alone knows neither).
        asks_advisor = message.payload == REQUEST_ADVISOR and state not in rules.HUMAN_STATES
        failed_before = False
        if asks_advisor:
            async with self.ctx.sessions() as s:
                failed_before = await store.last_user_rasa_failed(s, conversation_id, message.seq)

        via_bot = asks_advisor and not failed_before
        if message.payload and message.payload.startswith(GATEWAY_PAYLOAD) and not via_bot:
            await self._finish(message.id, "skipped")
            if asks_advisor:
                if state == rules.CLOSED:
                    await self._reopen(conversation_id)
                await self._hand_off(conversation_id, "bot_unavailable", None, False)
            return True

        if state == rules.CLOSED:
            await self._reopen(conversation_id)
            state = rules.BOT

        # A program's own metadata (REST) first: the gateway's keys cannot be overridden.
        # The sequence number lets the NLU log match Rasa's record of the turn to ours.
        extra = (message.custom or {}).get("metadata")
        metadata: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
        metadata.update(channel=channel, message_seq=message.seq)
        if page:
            metadata["page"] = page
        rasa_text = BOT_REQUEST_HUMAN if via_bot else (message.payload or message.text or "")

        if state in rules.HUMAN_STATES:
            # A person owns (or is about to own) the chat: Rasa only records the message.
            if not paused:
                await self.set_paused(conversation_id, True)
            try:
                replies = await self.rasa.send(conversation_id, rasa_text, metadata)
            except RasaUnavailable as exc:
                log.warning("could not record message %s in Rasa: %s", message.id, exc)
                await self._postpone(message)
                return False
            if replies:
                log.warning("Rasa answered a paused conversation %s; dropped", conversation_id)
            await self._finish(message.id, "done")
            return True

        if paused:
            await self.set_paused(conversation_id, False)
        await self.ctx.announce.typing(conversation_id, "bot", None, True)
        try:
            replies = await self.rasa.send(conversation_id, rasa_text, metadata)
        except RasaUnavailable as exc:
            log.warning("Rasa unavailable for message %s: %s", message.id, exc)
            return await self._bot_down(message, via_bot)
        if not replies:
            # Rasa answers [] when the turn failed inside it: its lock store (Redis) or
            # tracker store failed before the message was recorded, or its custom action
            # failed after. Only a turn it recorded, with the action server up, is a real
            # empty answer.
            try:
                recorded = await self.rasa.last_user_seq(conversation_id) == message.seq
            except RasaUnavailable:
                recorded = False
            if not recorded:
                log.warning("Rasa did not record message %s; it waits for the bot", message.id)
                return await self._bot_down(message, via_bot)
            if not await self._actions_up():
                # Undo the turn in the tracker so that sending it again later is clean.
                log.warning("the action server is down; message %s waits for it", message.id)
                with contextlib.suppress(RasaUnavailable):
                    await self.rasa.rewind(conversation_id)
                return await self._bot_down(message, via_bot)
        verdict = rules.judge_turn(replies)
        now = self.ctx.now()

        shown = [f for f in (_reply_fields(rules.public_reply(reply)) for reply in replies) if f is not None]
        # A pull channel's caller waits for this turn's answer, and nothing follows it here
        # (no hand-off, no later message of the conversation): its unread messages go
        # with the replies' transaction.
        pull = self._pull.get(conversation_id)
        if verdict.handoff_reason is not None or via_bot or conversation_id in self._dirty or self._more.get(
            conversation_id
        ):
            pull = None
        rows = [
            store.new_message_row(conversation_id, "bot", now=now, reply_to=message.seq, seq=0, **fields)
            for fields in shown
        ]
        hands_off = verdict.hands_off

        def store_turn(tx: Tx) -> tuple[str, list[dict[str, Any]], list[tuple[Any, ...]] | None]:
            stored: list[dict[str, Any]] = []
            # The replies are stored only while the bot still owns the chat (an advisor
            # may have taken it while Rasa answered): the conversation's state and the
            # replies' numbers come from one statement.
            if rows or hands_off:
                # (The bot's hand-off action paused the Rasa conversation.)
                number = _NUMBER_REPLIES_PAUSED if hands_off else _NUMBER_REPLIES
                state, last_seq = tx.execute(number, {"b_id": conversation_id, "b_count": len(rows)}).rows[0]
            else:
                state = tx.execute(_STATE, {"b_id": conversation_id}).rows[0][0]
            if state in (rules.BOT, rules.OFFLINE) and rows:
                for seq, row in enumerate(rows, start=last_seq - len(rows) + 1):
                    row = {**row, "seq": seq}
                    row["id"] = tx.execute(store.INSERT_MESSAGE, row).rows[0][0]
                    stored.append(row)
            tx.execute(_SET_STATUS, {"b_id": message.id, "b_status": "done"})
            # (Read in the database's thread: whether the caller still waits, as late as can be.)
            taken = outbox.take_unread_rows(tx, conversation_id) if pull is not None and not pull.done() else None
            return str(state), stored, taken

        # Rasa has answered: the answer is kept through a database restart (a few tries)
        # rather than asked for again later, which would put the turn twice in the tracker.
        state, stored_rows, taken = await _retrying_database(lambda: self.ctx.transaction(store_turn))
        stored = [store.message_json(StoredMessage(**row)) for row in stored_rows]
        if pull is not None and taken is not None and not pull.done():
            pull.set_result(outbox.unread_messages(taken))
        await self.ctx.announce.typing(conversation_id, "bot", None, False)
        await self.ctx.announce.messages(conversation_id, channel, state, stored)
        if verdict.handoff_reason is not None and state in (rules.BOT, rules.OFFLINE):
            await self._hand_off(conversation_id, verdict.handoff_reason, verdict.summary, True)
        elif via_bot and state in (rules.BOT, rules.OFFLINE):  # the bot did not hand off: still a person
            await self._hand_off(conversation_id, "request_human", None, False)
        return True

    async def _actions_up(self) -> bool:
        url = self.ctx.config.actions_health_url
        return not url or await self.rasa.reachable(url)

    async def _bot_down(self, message: StoredMessage, via_bot: bool) -> bool:
        """Rasa or the action server is down: the company is told (or, if it asked for a
        person, queued), and its message waits for the bot."""
        conversation_id = message.conversation_id
        await self.ctx.announce.typing(conversation_id, "bot", None, False)
        if via_bot:  # the company asked for a person: it gets one without the bot
            await self._finish(message.id, "failed")
            await self._hand_off(conversation_id, "bot_unavailable", None, False)
            return True
        await self._postpone(message)
        await self._tell_bot_unavailable(conversation_id)
        return False

    async def _hand_off(self, conversation_id: str, reason: str, summary: dict[str, Any] | None, paused: bool) -> None:
        assert self.hand_off is not None, "the worker is linked to ownership at start-up"
        await self.hand_off(conversation_id, reason, summary, paused)

    async def _reopen(self, conversation_id: str) -> None:
        assert self.reopen is not None, "the worker is linked to ownership at start-up"
        await self.reopen(conversation_id)

    async def _tell_bot_unavailable(self, conversation_id: str) -> None:
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            # Told already, and the company has written nothing since (a click on the
            # advisor button, or a message sent again, is not a new question)?
            recent = await s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.role.in_(("user", "system")))
                .order_by(Message.seq.desc())
                .limit(20)
            )
            for earlier in recent:
                if earlier.role == "system" and earlier.text == texts.BOT_UNAVAILABLE:
                    return
                if earlier.role == "user" and not (earlier.payload or "").startswith(GATEWAY_PAYLOAD):
                    break
            channel = str(await s.scalar(select(Conversation.channel).where(Conversation.id == conversation_id)))
            await events.record(s, conversation_id, EventKind.BOT_UNAVAILABLE, now, channel=channel)
            message = await store.add_message(
                s,
                conversation_id,
                "system",
                texts.BOT_UNAVAILABLE,
                now,
                buttons=[dict(texts.REQUEST_ADVISOR_BUTTON)],
                custom={"notice": "bot_unavailable"},
            )
            stored = store.message_json(message)
        await self.ctx.announce.messages(conversation_id, channel, rules.BOT, [stored])


async def _retrying_database(work: Callable[[], Awaitable[T]], attempts: int = DB_ATTEMPTS) -> T:
    """Run a transaction again while the database is unreachable (a restart, a fail-over)."""
    for attempt in range(attempts - 1):
        try:
            return await work()
        except (DBAPIError, OSError) as exc:
            log.warning("database unavailable (%s); trying again", type(exc).__name__)
            await asyncio.sleep(min(2.0 ** attempt, 5.0))
    return await work()


def _reply_fields(reply: dict[str, Any]) -> dict[str, Any] | None:
    """A Rasa bot message as stored fields, or None if it holds nothing to show or keep."""
    text = reply.get("text") if isinstance(reply.get("text"), str) else None
    buttons = [
        {"title": str(b.get("title", ""))[:200], "payload": str(b.get("payload", ""))[:500]}
        for b in reply.get("buttons") or []
        if isinstance(b, dict) and b.get("title")
    ]
    image = reply.get("image")
    if not (isinstance(image, str) and image.startswith(("https://", "http://"))):
        image = None
    custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else None
    if text is None and not buttons and image is None and not custom:
        return None
    return {"text": text, "buttons": buttons, "image": image, "custom": custom}
