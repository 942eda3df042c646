/* 亮身份 (Liangshenfen) storefront widget: turns <a class="liang-badge" data-badge-id> links into live badges.
   No dependencies, no cookies, no requests to anyone but the service that served this script. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || !window.fetch) return; // old browsers keep the plain link
  var origin = new URL(script.src).origin; // the API lives where the script came from, never where the page is
  var WORDS = { valid: "有效", expired: "已过期", not_yet_valid: "尚未生效", suspended: "已暂停", revoked: "已撤销" };
  // The one colour language (docs/colours.md): valid, warning, suspended, revoked. A badge on the
  // wrong shop and a number never issued are dangers, in the revoked red; never near the valid green.
  var VALID = "#1b7a3a", WARNING = "#8a4b00", SUSPENDED = "#3d5a80", REVOKED = "#a51d1d";
  var COLOURS = { valid: VALID, expired: WARNING, not_yet_valid: WARNING, suspended: SUSPENDED,
    revoked: REVOKED, foreign: REVOKED, unknown: REVOKED };
  var CSS = ":host{all:initial;display:inline-block;vertical-align:middle}" +
    ".b{display:inline-flex;align-items:center;gap:10px;box-sizing:border-box;max-width:320px;padding:8px 12px;" +
    "border-radius:10px;color:#fff;cursor:pointer;font:14px/1.35 system-ui,-apple-system,'PingFang SC'," +
    "'Microsoft YaHei','Noto Sans CJK SC',sans-serif;box-shadow:0 1px 3px rgba(0,0,0,.25)}" +
    ".b:focus-visible{outline:3px solid #f4c244;outline-offset:2px}" +
    ".i{width:22px;height:22px;flex:none}.t{display:flex;flex-direction:column;min-width:0}" +
    ".h{font-weight:700;letter-spacing:.05em}.s{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
    ".p{margin-left:auto;padding:2px 8px;border-radius:99px;background:#fff;font-weight:700;flex:none}" +
    ".w{font-weight:700}";
  var ID = /^[0-9A-Za-z][0-9A-Za-z \-]{0,39}$/;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text; // text only, never markup: the shop name is someone else's text
    return node;
  }

  // State icons as SVG, not font glyphs (a reader with only CJK fonts saw the revoked cross as an empty box);
  // the same shapes as templates/_icons.html.
  var SVG = "http://www.w3.org/2000/svg";
  var ICONS = { valid: ["M5 12.5l4.5 4.5L19 7.5"], revoked: ["M6.5 6.5l11 11M17.5 6.5l-11 11"],
    warning: ["M12 3.8L2.8 19.8h18.4z", "M12 10v4.3", "M12 17.1v.1"] };

  function icon(name) {
    var svg = document.createElementNS(SVG, "svg");
    var attrs = { "class": "i", viewBox: "0 0 24 24", width: "22", height: "22", "aria-hidden": "true",
      focusable: "false", fill: "none", stroke: "currentColor", "stroke-width": name === "warning" ? "2.2" : "3",
      "stroke-linecap": "round", "stroke-linejoin": "round" };
    for (var key in attrs) svg.setAttribute(key, attrs[key]);
    ICONS[name].forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  function style(root) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
      try { // constructed sheets are not inline styles, so a strict page CSP does not block them
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* fall through */ }
    }
    root.appendChild(el("style", "", CSS));
  }

  function bound(hosts, host) {
    // A bound host also covers its www. twin (www.shop.example and shop.example are one shop).
    var bare = host.indexOf("www.") === 0 ? host.slice(4) : host;
    return hosts.indexOf(host) >= 0 || hosts.indexOf(bare) >= 0 || hosts.indexOf("www." + bare) >= 0;
  }

  function render(link, data) {
    var verifyUrl = origin + "/v/" + encodeURIComponent(data.id);
    var host = location.hostname.toLowerCase().replace(/\.$/, "");
    var hosts = (data.shop && data.shop.hosts) || [];
    var state = data.unknown ? "unknown" : bound(hosts, host) ? (WORDS[data.status] ? data.status : "revoked")
      : "foreign";
    var shop = (data.shop && data.shop.name) || "";
    var holder = el("span", "liang-badge-host");
    var root = holder.attachShadow({ mode: "open" });
    style(root);
    var box = el("div", "b " + (state === "valid" ? "v" : "x"));
    box.setAttribute("role", "link");
    box.setAttribute("tabindex", "0");
    box.setAttribute("data-state", state);
    box.style.background = COLOURS[state];
    var label;
    if (state === "foreign" || state === "unknown") {
      var warn = state === "foreign"
        ? ["此徽章不属于本店", "点击查看徽章真正的主人", "警告：此徽章不属于本店。点击打开核验页面"]
        : ["没有这枚徽章", "此编号从未签发，可能是伪造的", "警告：没有这枚徽章，此编号从未签发，可能是伪造的。点击打开核验页面"];
      box.appendChild(icon("warning"));
      var tw = el("span", "t");
      tw.appendChild(el("span", "w", warn[0]));
      tw.appendChild(el("span", "s", warn[1]));
      box.appendChild(tw);
      label = warn[2];
    } else {
      var word = WORDS[state];
      box.appendChild(icon(state === "valid" ? "valid" : "revoked"));
      var t = el("span", "t");
      t.appendChild(el("span", "h", "党员网商"));
      t.appendChild(el("span", "s", shop));
      box.appendChild(t);
      var pill = el("span", "p", word);
      pill.style.color = COLOURS[state];
      box.appendChild(pill);
      label = "党员网商徽章：" + shop + "，状态：" + word + "。点击打开核验页面";
    }
    box.setAttribute("aria-label", label);
    box.title = label;
    function open() { window.open(verifyUrl, "_blank", "noopener"); }
    box.addEventListener("click", open);
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " " || ev.key === "Spacebar") { ev.preventDefault(); open(); }
    });
    root.appendChild(box);
    // The original link stays in the light DOM (not rendered without a slot) so nothing is lost.
    link.parentNode.insertBefore(holder, link);
    holder.appendChild(link);
  }

  function load(link) {
    var id = (link.getAttribute("data-badge-id") || "").trim();
    if (!ID.test(id) || link.getAttribute("data-liang-done")) return;
    link.setAttribute("data-liang-done", "1");
    fetch(origin + "/api/v1/badges/" + encodeURIComponent(id), {
      credentials: "omit", mode: "cors", cache: "no-cache", referrerPolicy: "no-referrer"
    }).then(function (r) {
      // 404 (never issued, or not public) and 400 (not even a badge number): the forged badge's warning.
      if (r.status === 404 || r.status === 400) return { id: id, unknown: true };
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (data && data.id) render(link, data);
    }).catch(function () { /* offline or blocked: the plain link still works */ });
  }

  function scan() {
    var links = document.querySelectorAll("a.liang-badge[data-badge-id]");
    for (var i = 0; i < links.length; i++) load(links[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
