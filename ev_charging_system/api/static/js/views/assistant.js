// Assistant: the Claude chat of the REST API. Conversations, a streamed thread with the tool
// calls the model made, and a confirmation card for an action it wants to take on a station.
// Model text is untrusted: it becomes text nodes (with a little markdown built as DOM nodes).

import { t, tn } from "../i18n.js";

import { ApiError, apiStream, enc, getAuthed, getToken, post } from "../api.js";
import { h, setChildren } from "../dom.js";
import { formatDateTime } from "../format.js";
import { hashFor, navigate } from "../router.js";
import { badge, button, errorBox, timeAgo } from "../ui.js";

const MAX_MESSAGE = 8000;
const OUTCOME_TONES = { ok: "ok", error: "danger", denied: "danger", confirmation_required: "warn", cancelled: "muted" };
const OUTCOME_LABELS = { ok: "done", error: "failed", denied: "denied", confirmation_required: "awaits confirmation", cancelled: "cancelled" };
const SUGGESTIONS = [t("Which charge points are online?"), t("Show today's energy per station."), t("Are there any faulted connectors?")];

// --- minimal markdown: **bold**, `code`, "- " / "1. " lists, paragraphs; all as DOM nodes ---

function inline(text) {
  const nodes = [];
  const pattern = /(\*\*([^*\n]+)\*\*|`([^`\n]+)`)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(match[2] !== undefined ? h("strong", {}, match[2]) : h("code", {}, match[3]));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

function withBreaks(lines) {
  const nodes = [];
  lines.forEach((line, i) => {
    if (i) nodes.push(h("br"));
    nodes.push(...inline(line));
  });
  return nodes;
}

/** Assistant text as paragraphs and lists (never HTML). */
export function richText(text) {
  const blocks = [];
  let paragraph = [];
  let list = null;
  const flushParagraph = () => {
    if (paragraph.length) blocks.push(h("p", {}, withBreaks(paragraph)));
    paragraph = [];
  };
  const flushList = () => {
    if (list) blocks.push(list.node);
    list = null;
  };
  for (const line of String(text ?? "").split("\n")) {
    const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    const item = bullet || numbered;
    if (item) {
      flushParagraph();
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tag !== tag) {
        flushList();
        list = { tag, node: h(tag) };
      }
      list.node.append(h("li", {}, inline(item[1])));
    } else if (!line.trim()) {
      flushParagraph();
      flushList();
    } else {
      flushList();
      paragraph.push(line);
    }
  }
  flushParagraph();
  flushList();
  return blocks;
}

// --- history: Anthropic content blocks to display items -------------------------------------

function blocksOf(content) {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content : [];
}

function resultText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((b) => (b && b.type === "text" ? b.text : JSON.stringify(b))).join("\n");
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The stored messages as [{kind: "user"|"assistant", text} | {kind: "tool", name, arguments, result, isError}]. */
function itemsOf(messages) {
  const items = [];
  const tools = new Map();
  for (const message of messages || []) {
    for (const block of blocksOf(message.content)) {
      if (!block || typeof block !== "object") continue;
      if (block.type === "text" && block.text && block.text.trim()) {
        items.push({ kind: message.role === "user" ? "user" : "assistant", text: block.text, at: message.created_at });
      } else if (block.type === "tool_use") {
        const item = { kind: "tool", name: block.name, arguments: block.input || {}, result: null, isError: false };
        tools.set(block.id, item);
        items.push(item);
      } else if (block.type === "tool_result") {
        const item = tools.get(block.tool_use_id);
        if (item) {
          item.result = resultText(block.content);
          item.isError = Boolean(block.is_error);
          if (item.isError && /declined|cancel/i.test(item.result)) item.outcome = "cancelled";
        }
      }
    }
  }
  return items;
}

function argumentsText(args) {
  const entries = Object.entries(args || {});
  if (!entries.length) return "";
  return entries.map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
}

// --- the view ---------------------------------------------------------------------------------

export function assistantView() {
  let root = null;
  let conversationId = null;
  let conversations = [];
  let state = "unknown"; // unknown | ready | no-token | unauthorised | unavailable
  let unavailableDetail = "";
  let sending = false;
  let controller = null;
  let loadGeneration = 0;

  const listNode = h("ul", { class: "chat-list", "aria-label": t("Conversations") });
  const listStatus = h("p", { class: "muted small chat-list-status", "aria-live": "polite" });
  const thread = h("div", { class: "chat-thread", role: "log", "aria-live": "polite", "aria-label": t("Messages"), tabindex: "0" });
  const notice = h("div", { class: "chat-notice" });
  let layout = h("div");
  const threadTitle = h("h2", { class: "panel-title", id: "chat-thread-title" }, t("New conversation"));
  const threadMeta = h("p", { class: "panel-description" });
  const input = h("textarea", {
    class: "input chat-input",
    id: "chat-input",
    rows: "3",
    maxlength: String(MAX_MESSAGE),
    placeholder: t("Ask about stations, sessions or energy — or ask it to act (you confirm first)."),
    "aria-describedby": "chat-input-hint",
  });
  const counter = h("span", { class: "muted small", "aria-hidden": "true" });
  const sendButton = button(t("Send"), { kind: "primary", type: "submit" });
  const stopButton = button(t("Stop"), { kind: "ghost", hidden: true, onClick: () => controller && controller.abort() });
  const composer = h(
    "form",
    { class: "chat-composer", "aria-label": t("Message the assistant") },
    h("label", { class: "visually-hidden", for: "chat-input" }, t("Message")),
    input,
    h(
      "div",
      { class: "chat-composer-bar" },
      h("span", { class: "muted small", id: "chat-input-hint" }, t("Enter sends · Shift+Enter for a new line")),
      h("span", { class: "spacer" }),
      counter,
      stopButton,
      sendButton,
    ),
  );

  // --- notices: what to do when the chat cannot be used ---

  function openTokenDialog() {
    const trigger = document.getElementById("token-button");
    if (trigger) trigger.click();
  }

  function renderNotice() {
    if (state === "unavailable") {
      setChildren(
        notice,
        h(
          "div",
          { class: "alert alert-info chat-setup", role: "status" },
          h("strong", { class: "alert-title" }, t("The assistant is not enabled on this server")),
          h("p", {}, t("It uses Claude, which needs an Anthropic API key. Everything else in the console works without it.")),
          h(
            "ol",
            { class: "chat-steps" },
            h("li", {}, t("Get an API key from the Anthropic Console.")),
            h("li", {}, t("Set it for the server, e.g."), " ", h("code", {}, "ANTHROPIC_API_KEY=sk-ant-…"), " ", t("in its environment or"), " ", h("code", {}, ".env"), " ", t("file.")),
            h("li", {}, t("Restart the server, then reload this page.")),
          ),
          unavailableDetail ? h("p", { class: "muted small" }, t("Server: {detail}", { detail: unavailableDetail })) : null,
        ),
      );
    } else if (state === "no-token" || state === "unauthorised") {
      setChildren(
        notice,
        h(
          "div",
          { class: "alert alert-warn chat-setup", role: "status" },
          h("strong", { class: "alert-title" }, state === "no-token" ? t("The assistant needs the operator token") : t("The operator token was refused (401)")),
          h(
            "p",
            {},
            t("The chat can read and operate the whole network, so it is for operators only."), " ",
            state === "no-token" ? t("Set the server's API_TOKEN in this browser to use it.") : t("Set the server's current API_TOKEN again."),
          ),
          h("div", { class: "button-row" }, button(t("Set API token"), { kind: "primary", size: "sm", onClick: openTokenDialog })),
        ),
      );
    } else {
      notice.replaceChildren();
    }
    const usable = state === "ready" || state === "unknown";
    composer.hidden = !usable;
    layout.hidden = !usable;
  }

  function setState(next, detail = "") {
    state = next;
    unavailableDetail = detail;
    renderNotice();
  }

  /** Turn a failed call into the matching notice; true when it was one of those. */
  function handledAsState(error) {
    if (!(error instanceof ApiError)) return false;
    if (error.status === 503) {
      setState("unavailable", error.detail);
      return true;
    }
    if (error.status === 401) {
      setState(getToken() ? "unauthorised" : "no-token");
      return true;
    }
    return false;
  }

  // --- conversation list ---

  function renderList() {
    if (!conversations.length) {
      setChildren(listNode);
      listStatus.textContent = state === "ready" ? t("No conversation yet.") : "";
      return;
    }
    listStatus.textContent = "";
    setChildren(
      listNode,
      conversations.map((c) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              class: "chat-list-item",
              href: hashFor("assistant", c.id),
              "aria-current": c.id === conversationId ? "page" : null,
            },
            h("span", { class: "chat-list-title", title: c.title }, c.title || t("Untitled")),
            h(
              "span",
              { class: "chat-list-meta" },
              timeAgo(c.updated_at),
              c.awaiting_confirmation ? badge(t("Awaiting confirmation"), "warn") : null,
            ),
          ),
        ),
      ),
    );
  }

  async function loadList() {
    if (!getToken()) {
      conversations = [];
      setState("no-token");
      renderList();
      return;
    }
    try {
      conversations = (await getAuthed("/api/chat", { limit: 50 })) || [];
      if (state !== "ready") setState("ready");
    } catch (error) {
      if (!handledAsState(error)) {
        listStatus.textContent = t("Could not load the conversations: {detail}", { detail: error.detail || error.message });
        return;
      }
      conversations = [];
    }
    renderList();
  }

  // --- the thread ---

  function bubble(role, text, { streaming = false } = {}) {
    const body = h("div", { class: "chat-text" }, role === "assistant" && !streaming ? richText(text) : withBreaks(String(text).split("\n")));
    return h(
      "div",
      { class: ["chat-message", `chat-${role}`] },
      h("span", { class: "visually-hidden" }, role === "user" ? t("You said:") : t("Assistant:")),
      h("div", { class: "chat-bubble" }, body),
    );
  }

  function toolNode(item) {
    const outcome = item.outcome || (item.result === null ? null : item.isError ? "error" : "ok");
    const args = argumentsText(item.arguments);
    const head = [
      h("span", { class: "chat-tool-icon", "aria-hidden": "true" }, "⚙"),
      h("span", { class: "visually-hidden" }, t("Tool call"), " "),
      h("code", { class: "chat-tool-name" }, item.name),
      args ? h("span", { class: "chat-tool-args mono", title: args }, args) : null,
      outcome ? badge(OUTCOME_LABELS[outcome] || outcome, OUTCOME_TONES[outcome] || "muted") : h("span", { class: "muted small" }, "running…"),
    ];
    if (item.result === null || item.result === undefined) {
      return h("div", { class: "chat-tool" }, h("div", { class: "chat-tool-head" }, head));
    }
    return h(
      "details",
      { class: "chat-tool" },
      h("summary", { class: "chat-tool-head" }, head),
      h("pre", { class: "chat-tool-result", tabindex: "0" }, pretty(item.result)),
    );
  }

  function pendingCard(pending) {
    const summary = pending.summary || `${pending.tool}(${argumentsText(pending.arguments)})`;
    const expires = pending.expires_at ? new Date(pending.expires_at) : null;
    const expired = expires && expires.getTime() < Date.now();
    const confirm = button(t("Confirm"), { kind: "danger" });
    const cancel = button(t("Cancel"), { kind: "ghost" });
    const headingId = `chat-pending-${Math.random().toString(36).slice(2, 8)}`;
    const card = h(
      "section",
      { class: "chat-confirm", role: "group", "aria-labelledby": headingId, tabindex: "-1" },
      h("p", { class: "chat-confirm-kicker" }, t("Confirmation needed")),
      h("h3", { class: "chat-confirm-title", id: headingId }, summary),
      h(
        "p",
        { class: "muted small" },
        t("The assistant wants to do this on a live station. Nothing happens until you confirm."),
        expires ? ` ${expired ? t("This request expired at {time}.", { time: formatDateTime(pending.expires_at) }) : t("Confirm before {time}.", { time: formatDateTime(pending.expires_at) })}` : "",
      ),
      h("details", { class: "chat-confirm-details" }, h("summary", {}, t("Details")), h("pre", { class: "chat-tool-result" }, JSON.stringify({ tool: pending.tool, arguments: pending.arguments }, null, 2))),
      h("div", { class: "button-row" }, confirm, cancel),
    );
    const decide = async (yes, pressed) => {
      if (sending) return;
      confirm.disabled = true;
      cancel.disabled = true;
      pressed.setAttribute("aria-busy", "true");
      setSending(true);
      try {
        await post(`/api/chat/${enc(conversationId)}/confirm`, { confirm: yes });
        await loadConversation(conversationId, { quiet: true });
      } catch (error) {
        if (handledAsState(error)) return;
        thread.append(errorBox(error));
        confirm.disabled = false;
        cancel.disabled = false;
        if (error instanceof ApiError && error.status === 409) await loadConversation(conversationId, { quiet: true });
      } finally {
        pressed.removeAttribute("aria-busy");
        setSending(false);
        scrollDown();
        loadList();
      }
    };
    confirm.addEventListener("click", () => decide(true, confirm));
    cancel.addEventListener("click", () => decide(false, cancel));
    return card;
  }

  function welcome() {
    return h(
      "div",
      { class: "chat-welcome" },
      h("p", { class: "empty-title" }, t("Ask the assistant about your charging network")),
      h("p", { class: "muted" }, t("It reads stations, sessions and energy through the same tools as MCP clients. Any action on a station waits for your confirmation.")),
      h(
        "div",
        { class: "button-row" },
        SUGGESTIONS.map((text) =>
          button(text, {
            size: "sm",
            class: "chat-suggestion",
            onClick: () => {
              input.value = text;
              updateCounter();
              input.focus();
            },
          }),
        ),
      ),
    );
  }

  function scrollDown() {
    thread.scrollTop = thread.scrollHeight;
  }

  function renderConversation(conversation) {
    threadTitle.textContent = conversation.title || t("Conversation");
    threadMeta.textContent = t("Started {time}", { time: formatDateTime(conversation.created_at) });
    const items = itemsOf(conversation.messages);
    const pending = conversation.pending_action;
    if (pending) {
      // The held call has no result yet: it is the one awaiting the confirmation below.
      const held = [...items].reverse().find((item) => item.kind === "tool" && item.result === null && item.name === pending.tool);
      if (held) held.outcome = "confirmation_required";
    }
    setChildren(
      thread,
      items.length ? items.map((item) => (item.kind === "tool" ? toolNode(item) : bubble(item.kind, item.text))) : welcome(),
      conversation.pending_action ? pendingCard(conversation.pending_action) : null,
    );
    scrollDown();
    const card = thread.querySelector(".chat-confirm");
    if (card && document.activeElement !== input) card.focus({ preventScroll: true });
  }

  function startNew() {
    conversationId = null;
    threadTitle.textContent = t("New conversation");
    threadMeta.textContent = "";
    setChildren(thread, welcome());
    renderList();
  }

  async function loadConversation(id, { quiet = false } = {}) {
    const generation = ++loadGeneration;
    if (!quiet) setChildren(thread, h("p", { class: "loading" }, t("Loading the conversation…")));
    try {
      const conversation = await getAuthed(`/api/chat/${enc(id)}`);
      if (generation !== loadGeneration || !root) return;
      renderConversation(conversation);
    } catch (error) {
      if (generation !== loadGeneration) return;
      if (handledAsState(error)) {
        thread.replaceChildren();
        return;
      }
      setChildren(thread, errorBox(error), h("div", { class: "button-row" }, button(t("Start a new conversation"), { onClick: () => navigate("assistant") })));
    }
  }

  function select(id) {
    if (id === conversationId && id !== null) return;
    if (controller) controller.abort();
    conversationId = id;
    renderList();
    if (state !== "ready" && state !== "unknown") return;
    if (id) loadConversation(id);
    else startNew();
  }

  // --- sending ---

  function updateCounter() {
    const n = input.value.length;
    counter.textContent = n > MAX_MESSAGE * 0.8 ? `${n} / ${MAX_MESSAGE}` : "";
  }

  function setSending(value) {
    sending = value;
    sendButton.disabled = value;
    thread.setAttribute("aria-busy", String(value));
    stopButton.hidden = !(value && controller);
  }

  async function send(text) {
    if (sending || !text.trim()) return;
    const welcomeNode = thread.querySelector(".chat-welcome");
    if (welcomeNode) welcomeNode.remove();
    for (const old of thread.querySelectorAll(".chat-confirm, .alert")) old.remove();
    thread.append(bubble("user", text));
    let current = null; // the assistant bubble receiving text
    let currentText = "";
    const typing = h("div", { class: "chat-message chat-assistant chat-typing" }, h("div", { class: "chat-bubble" }, h("span", { class: "visually-hidden" }, t("The assistant is answering")), h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span"))));
    thread.append(typing);
    scrollDown();
    const tools = [];
    let pending = null;
    let streamError = null;
    const nearBottom = () => thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;

    const finishBubble = () => {
      if (current) {
        const body = current.querySelector(".chat-text");
        setChildren(body, richText(currentText));
      }
      current = null;
      currentText = "";
    };

    const onEvent = (type, data) => {
      const stick = nearBottom();
      if (type === "conversation" && data && data.id) {
        if (conversationId !== data.id) {
          conversationId = data.id;
          threadTitle.textContent = data.title || t("Conversation");
          navigate("assistant", data.id, null, { replace: true });
          if (!conversations.some((c) => c.id === data.id)) {
            const now = new Date().toISOString();
            conversations.unshift({ id: data.id, title: data.title, created_at: now, updated_at: now, awaiting_confirmation: false });
          }
          renderList();
        }
      } else if (type === "text" && data && typeof data.text === "string") {
        if (!current) {
          current = bubble("assistant", "", { streaming: true });
          thread.insertBefore(current, typing);
        }
        currentText += data.text;
        setChildren(current.querySelector(".chat-text"), withBreaks(currentText.split("\n")));
      } else if (type === "tool_call" && data) {
        finishBubble();
        const item = { name: data.name, arguments: data.arguments, result: null };
        const node = toolNode(item);
        tools.push({ item, node });
        thread.insertBefore(node, typing);
      } else if (type === "tool_result" && data) {
        const entry = [...tools].reverse().find((t) => t.item.name === data.name && !t.item.outcome);
        if (entry) {
          entry.item.outcome = data.outcome;
          const node = toolNode(entry.item);
          entry.node.replaceWith(node);
          entry.node = node;
        }
      } else if (type === "confirmation_required") {
        pending = data;
      } else if (type === "error") {
        streamError = new ApiError(502, (data && data.detail) || t("The assistant could not answer."), "/api/chat/stream");
      }
      if (stick) scrollDown();
    };

    controller = typeof AbortController === "function" ? new AbortController() : null;
    setSending(true);
    let ok = false;
    try {
      await apiStream("/api/chat/stream", { conversation_id: conversationId, message: text }, onEvent, { signal: controller ? controller.signal : undefined });
      ok = !streamError;
    } catch (error) {
      if (error && error.name === "AbortError") {
        finishBubble();
        typing.remove();
        thread.append(h("p", { class: "muted small chat-stopped" }, t("Stopped. The answer may continue on the server; reopen the conversation to see it.")));
        return;
      }
      if (handledAsState(error)) {
        typing.remove();
        input.value = text; // keep what was typed for after the setup
        updateCounter();
        return;
      }
      streamError = error;
      if (error instanceof ApiError && error.body && error.body.conversation_id && !conversationId) {
        conversationId = error.body.conversation_id;
        navigate("assistant", conversationId, null, { replace: true });
      }
    } finally {
      finishBubble();
      typing.remove();
      controller = null;
      setSending(false);
    }
    if (ok && conversationId) {
      // The stored conversation has the tool results too: show that version.
      await loadConversation(conversationId, { quiet: true });
    } else {
      if (pending) thread.append(pendingCard(pending));
      if (streamError) thread.append(errorBox(streamError));
      scrollDown();
    }
    loadList();
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() || sending) return;
    input.value = "";
    updateCounter();
    send(text.trim());
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", updateCounter);

  return {
    title: t("Assistant"),
    mount(container, route) {
      root = h(
        "div",
        { class: "view chat-view" },
        h(
          "div",
          { class: "view-header" },
          h("div", {}, h("h1", {}, t("Assistant")), h("p", { class: "view-lede" }, t("Ask Claude about the network in plain language. Actions on stations wait for your confirmation."))),
        ),
        notice,
        (layout = h(
          "div",
          { class: "chat-layout" },
          h(
            "section",
            { class: "panel chat-sidebar", "aria-labelledby": "chat-list-title" },
            h(
              "div",
              { class: "panel-header" },
              h("h2", { class: "panel-title", id: "chat-list-title" }, t("Conversations")),
              h("div", { class: "panel-actions" }, button(t("New"), { size: "sm", kind: "primary", "aria-label": t("New conversation"), onClick: () => navigate("assistant") })),
            ),
            listStatus,
            listNode,
          ),
          h(
            "section",
            { class: "panel chat-main", "aria-labelledby": "chat-thread-title" },
            h("div", { class: "panel-header" }, h("div", {}, threadTitle, threadMeta)),
            thread,
            composer,
          ),
        )),
      );
      container.append(root);
      renderNotice();
      conversationId = route.id || null;
      setChildren(thread, h("p", { class: "loading" }, t("Loading…")));
      // The first refresh() (right after mounting) loads the list, then this thread.
    },
    update(route) {
      select(route.id || null);
    },
    async refresh() {
      // Only the list refreshes itself: the thread changes when you act, never under you.
      const before = state;
      if (sending) return;
      await loadList();
      if (before !== "ready" && state === "ready") {
        if (conversationId) loadConversation(conversationId);
        else startNew();
      }
    },
    unmount() {
      if (controller) controller.abort();
      root = null;
    },
  };
}
