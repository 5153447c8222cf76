/* cs-tui web chat: <script src="https://gateway/widget.js" data-channel="NAME"> on any page.
 * No build step, no third-party code. Everything a customer or an agent wrote is put into the
 * page as text nodes (never parsed as HTML). DOM contract: textarea[name=message], button[type=submit],
 * one element per message with data-author="customer"|"agent"|"system" and, on the customer's
 * own, data-status="sending"|"sent"|"failed"; the connection state in [data-connection]
 * ("online"|"reconnecting"|"offline"). With the channel's pre-chat form on, input[name=name] and
 * input[name=order] show above the message box until the first message is sent. Options on the script tag: data-lang (zh|en),
 * data-identifier + data-identifier-hash (a shop's signed-in customer), data-target (a CSS
 * selector to render into instead of a floating panel). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var channel = script.getAttribute("data-channel") || "";
  var base = new URL(script.src, location.href);
  var MAX = 5000;
  var T = {
    en: {
      title: "Chat with us", send: "Send", placeholder: "Type a message",
      online: "Connected", reconnecting: "Reconnecting…", offline: "Offline",
      too_long: "This message is too long (at most 5,000 characters). Please shorten it.",
      rate_messages: "You are sending messages too quickly. Please wait {s} seconds and try again.",
      rate_conversations: "Too many new chats from here. Please wait {s} seconds and try again.",
      invalid: "This message could not be sent.",
      name_label: "Your name", order_label: "Order number (optional)",
      need_name: "Please tell us your name first.",
      bad_name: "Please give your name as plain text, at most 80 characters.",
      bad_order: "An order number holds only letters, digits, '-' and '_' (at most 26).",
      unavailable: "The chat is not available right now.",
      too_many_sockets: "Too many chat windows are open. Close some of them and reload this page.",
      failed: "Not sent", retry: "Tap to send again",
      menu: "No one is available right now. Reply with a number, or type your question:",
      menu_closed: "We're closed right now. We're back {when}. Reply with a number, or type your question:",
      days: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
      items: ["Order status", "Shipping and delivery", "Returns and after-sales", "Talk to a person"],
      answer: "From our help pages:",
      nothing: "We found no help page for that. A person will read your message.",
      person: "A person will answer here {when}. You can close this page: the reply will be here when you come back.",
      when_soon: "as soon as one is free",
      when_later: "when the team is back",
      when_back: "when we're back, {when}"
    },
    zh: {
      title: "在线客服", send: "发送", placeholder: "请输入消息",
      online: "已连接", reconnecting: "正在重新连接…", offline: "已离线",
      too_long: "消息太长(最多 5000 字),请缩短后再发送。",
      rate_messages: "发送太频繁,请 {s} 秒后再试。",
      rate_conversations: "新会话太多,请 {s} 秒后再试。",
      invalid: "这条消息无法发送。",
      name_label: "您的称呼", order_label: "订单号(选填)",
      need_name: "请先填写您的称呼。",
      bad_name: "称呼请使用普通文字,最多 80 个字。",
      bad_order: "订单号只能包含字母、数字、“-”和“_”(最多 26 位)。",
      unavailable: "客服暂时不可用。",
      too_many_sockets: "打开的聊天窗口太多。请关闭一些窗口后刷新本页。",
      failed: "未发送", retry: "点击重新发送",
      menu: "现在没有客服在线。请回复数字,或直接输入您的问题:",
      menu_closed: "现在是非服务时间,我们{when}恢复服务。请回复数字,或直接输入您的问题:",
      days: ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
      items: ["订单查询", "物流查询", "售后申请", "转人工"],
      answer: "帮助中心为您找到:",
      nothing: "没有找到相关帮助,客服会阅读您的消息。",
      person: "客服会在{when}在这里回复您。您可以关闭页面,回来时回复会在这里。",
      when_soon: "有空时尽快",
      when_later: "上班后",
      when_back: "{when}上班后"
    }
  };
  var wanted = (script.getAttribute("data-lang") || navigator.language || "en").toLowerCase();
  var lang = wanted.indexOf("zh") === 0 ? "zh" : "en";
  var S = T[lang];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
    if (text != null) node.appendChild(document.createTextNode(String(text)));
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: new URL("widget.css", base).href });
  document.head.appendChild(css);
  var root = el("section", { "class": "cs-chat", lang: lang, "aria-label": S.title });
  var head = el("header", { "class": "cs-chat-head" });
  head.appendChild(el("span", { "class": "cs-chat-title" }, S.title));
  var conn = el("span", { "class": "cs-chat-state", "data-connection": "reconnecting", role: "status" }, S.reconnecting);
  head.appendChild(conn);
  var log = el("ol", { "class": "cs-chat-log", "aria-live": "polite" });
  var form = el("form", { "class": "cs-chat-form" });
  var input = el("textarea", { name: "message", rows: "2", placeholder: S.placeholder, "aria-label": S.placeholder });
  var button = el("button", { type: "submit" }, S.send);
  // The pre-chat form (off unless the channel asks for it): sent with the first message only.
  var pre = el("fieldset", { "class": "cs-chat-prechat", hidden: "hidden" });
  var nameInput = el("input", { name: "name", type: "text", maxlength: "80", autocomplete: "name",
    placeholder: S.name_label, "aria-label": S.name_label });
  var orderInput = el("input", { name: "order", type: "text", maxlength: "26", autocomplete: "off",
    placeholder: S.order_label, "aria-label": S.order_label });
  pre.appendChild(nameInput);
  pre.appendChild(orderInput);
  form.appendChild(pre);
  form.appendChild(input);
  form.appendChild(button);
  root.appendChild(head);
  root.appendChild(log);
  root.appendChild(form);
  var target = script.getAttribute("data-target");
  var holder = target ? document.querySelector(target) : null;
  if (!holder) root.className += " cs-chat-floating";
  (holder || document.body).appendChild(root);

  var store = window.localStorage;
  var tokenKey = "cs-chat:" + channel + ":token";
  var identifier = script.getAttribute("data-identifier");
  var identifierHash = script.getAttribute("data-identifier-hash");
  var seen = {};          // seq -> element: each message is shown once, replays included
  var lastSeq = 0;
  var pending = {};       // client id -> {text, node}: not yet acknowledged, sent again after a drop
  var mine = {};          // client id -> node: the visitor's own messages until the server echoes them
  var unread = [];        // agent messages shown, to report as read
  var ws = null, attempt = 0, timer = null, stopped = false;
  var preChat = false;    // the server asked for the pre-chat form and nothing is sent yet

  function setState(state) {
    conn.setAttribute("data-connection", state);
    conn.textContent = S[state];
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function add(author, text, extra) {
    var item = el("li", { "class": "cs-msg cs-" + author, "data-author": author });
    if (extra && extra.name) item.appendChild(el("span", { "class": "cs-name" }, extra.name));
    item.appendChild(el("div", { "class": "cs-text" }, text));
    log.appendChild(item);
    scroll();
    return item;
  }
  function system(text) { return add("system", text); }
  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values && values[k] != null ? values[k] : ""; });
  }
  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function setStatus(node, status) {
    node.setAttribute("data-status", status);
    node.title = status === "failed" ? S.retry : "";
  }
  function send(payload) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(payload)); return true; }
    return false;
  }
  function reportRead() {
    if (!unread.length || document.visibilityState === "hidden") return;
    if (send({ type: "seen", seqs: unread })) unread = [];
  }
  document.addEventListener("visibilitychange", reportRead);

  function onMessage(m) {
    if (seen[m.seq]) return;
    var node = m.client_id && mine[m.client_id] ? mine[m.client_id] : null;
    if (node) {
      delete pending[m.client_id];
      delete mine[m.client_id];
      setStatus(node, "sent");
    } else {
      node = add(m.author, m.text, { name: m.author === "agent" ? m.name : null });
      if (m.author === "customer") setStatus(node, "sent");
    }
    node.setAttribute("data-seq", String(m.seq));
    seen[m.seq] = node;
    if (m.seq > lastSeq) lastSeq = m.seq;
    if (preChat && m.author === "customer") { preChat = false; pre.hidden = true; }
    if (m.author === "agent") { unread.push(m.seq); reportRead(); }
  }
  function onRefused(m) {
    var p = m.client_id ? pending[m.client_id] : null;
    if (p) { setStatus(p.node, "failed"); delete pending[m.client_id]; delete mine[m.client_id]; }
    system(fmt(S[m.code] || S.invalid, { s: Math.max(1, Math.ceil(m.retry_after || 0)) }));
    if (m.code === "bad_name") nameInput.focus();
    if (m.code === "bad_order") orderInput.focus();
  }
  // When the team opens next, in its calendar's zone as the server gave it: "Mon 09:00".
  function opensText(o) {
    return (o.date || S.days[o.weekday] || "") + " " + o.time;
  }
  function onMenu(m) {
    var lines = [m.opens ? fmt(S.menu_closed, { when: opensText(m.opens) }) : S.menu];
    for (var i = 0; i < S.items.length; i++) lines.push((i + 1) + ". " + S.items[i]);
    system(lines.join("\n"));
  }
  function onAnswer(m) {
    if (!m.titles || !m.titles.length) { system(S.nothing); return; }
    var node = add("system", S.answer);
    var list = el("ul", { "class": "cs-kb" });
    for (var i = 0; i < m.titles.length; i++) list.appendChild(el("li", {}, m.titles[i]));
    node.appendChild(list);
    if (m.paragraph) node.appendChild(el("p", { "class": "cs-kb-best" }, m.paragraph));
    scroll();
  }
  function onFrame(event) {
    var m;
    try { m = JSON.parse(event.data); } catch (e) { return; }
    if (!m || typeof m !== "object") return;
    if (m.type === "welcome") {
      if (m.token) store.setItem(tokenKey, m.token);
      attempt = 0;
      setState("online");
      preChat = m.pre_chat === true && lastSeq === 0;
      pre.hidden = !preChat;
      for (var id in pending) send(pending[id].payload);
    } else if (m.type === "message") onMessage(m);
    else if (m.type === "ack") {
      var p = pending[m.client_id];
      if (p) {
        setStatus(p.node, "sent");
        delete pending[m.client_id];
        if (p.payload.name != null) { preChat = false; pre.hidden = true; }
      }
    } else if (m.type === "refused") onRefused(m);
    else if (m.type === "menu") onMenu(m);
    else if (m.type === "answer") onAnswer(m);
    else if (m.type === "person") {
      var when = m.soon ? S.when_soon : S.when_later;
      if (m.opens) when = fmt(S.when_back, { when: opensText(m.opens) });
      system(fmt(S.person, { when: when }));
    }
  }
  function connect() {
    timer = null;
    var url = new URL("ws/chat/" + encodeURIComponent(channel), base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    try { ws = new WebSocket(url.href); } catch (e) { retry(); return; }
    ws.onopen = function () {
      send({
        type: "hello", token: store.getItem(tokenKey), last_seq: lastSeq, lang: lang,
        identifier: identifier, identifier_hash: identifierHash
      });
    };
    ws.onmessage = onFrame;
    ws.onclose = function (event) {
      ws = null;
      if (event.code === 4404 || event.code === 4403) { stopped = true; setState("offline"); system(S.unavailable); return; }
      if (event.code === 4429) { stopped = true; setState("offline"); return; }  // told by a refused frame
      retry();
    };
  }
  function retry() {
    if (stopped || timer) return;
    setState(navigator.onLine === false ? "offline" : "reconnecting");
    // 0.5 s, 1, 2, 4 ... up to 15 s, with jitter so a restarted server is not hit all at once
    var delay = Math.min(15000, 500 * Math.pow(2, attempt++)) * (0.75 + Math.random() * 0.5);
    timer = window.setTimeout(connect, delay);
  }
  window.addEventListener("online", function () {
    if (!ws && !stopped) { if (timer) window.clearTimeout(timer); timer = null; attempt = 0; connect(); }
  });
  window.addEventListener("offline", function () { if (!ws) setState("offline"); });

  function submit(text) {
    if (!text.trim()) return true;
    if (preChat && !nameInput.value.trim()) { system(S.need_name); nameInput.focus(); return false; }
    var node = add("customer", text);
    if (text.length > MAX) { setStatus(node, "failed"); system(S.too_long); return true; }
    var id = newId();
    setStatus(node, "sending");
    node.setAttribute("data-client-id", id);
    var payload = { type: "send", client_id: id, text: text };
    if (preChat) { payload.name = nameInput.value; payload.order = orderInput.value; }
    pending[id] = { payload: payload, node: node };
    mine[id] = node;
    send(payload);
    return true;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit(input.value)) { input.value = ""; input.focus(); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  log.addEventListener("click", function (event) {
    var node = event.target.closest ? event.target.closest("[data-status=failed]") : null;
    if (!node || !node.parentNode) return;
    var text = node.querySelector(".cs-text").textContent;
    if (text.length > MAX) return;
    node.parentNode.removeChild(node);
    submit(text);
  });
  connect();
})();
