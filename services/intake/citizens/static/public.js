// The public pages (我要反映, 办理进度). Everything shown from the server or the citizen is set
// with textContent, never as HTML. Chinese first; ?lang=en (remembered) for English.
"use strict";
var Hotline = (function () {
  var API = "../v1/public/";
  var EN = (function () {
    var asked = new URLSearchParams(location.search).get("lang");
    try {
      if (asked) localStorage.setItem("lang", asked);
      return (asked || localStorage.getItem("lang")) === "en";
    } catch (e) {
      return asked === "en";
    }
  })();
  var HEADERS = { "Accept-Language": EN ? "en" : "zh-CN" };

  function $(id) { return document.getElementById(id); }
  function T(zh, en) { return EN ? en : zh; }

  // The page's own words in English: each element carries them in data-en.
  function localise() {
    var other = $("language");
    other.textContent = T("English", "中文");
    other.href = "?lang=" + T("en", "zh");
    if (!EN) return;
    document.documentElement.lang = "en";
    document.title = document.body.dataset.enTitle;
    document.querySelectorAll("[data-en]").forEach(function (el) { el.textContent = el.dataset.en; });
    document.querySelectorAll("[data-en-placeholder]").forEach(function (el) {
      el.placeholder = el.dataset.enPlaceholder;
    });
  }

  function say(text, isError) {
    var status = $("status");
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  // Every time in Beijing time with the year: 2026年12月07日 10:05 (2026-12-07 10:05 in English).
  function shown(iso) {
    if (!iso) return "";
    var parts = {};
    new Intl.DateTimeFormat("zh-CN", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    var time = parts.hour + ":" + parts.minute;
    if (EN) return parts.year + "-" + parts.month + "-" + parts.day + " " + time + " (Beijing time)";
    return parts.year + "年" + parts.month + "月" + parts.day + "日 " + time;
  }

  async function problem(response) {
    if (response.status === 413) {
      return T("照片总大小超出限制，请减少照片或选择较小的照片", "The photos are too large: send fewer or smaller ones");
    }
    if (response.status === 429) {
      var wait = response.headers.get("Retry-After") || "60";
      return T("操作过于频繁，请 " + wait + " 秒后再试", "Too many requests: try again in " + wait + " s");
    }
    try {
      var body = await response.json();
      if (body.error && body.error.message) return body.error.message;
    } catch (e) { /* not JSON: fall through */ }
    return T("服务暂不可用，请稍后重试", "The service is unavailable; please try again shortly");
  }

  function zeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { bits += 8; continue; }
      return bits + Math.clz32(bytes[i]) - 24;
    }
    return bits;
  }

  // The proof of work: a nonce whose SHA-256 with the challenge starts with `bits` zero bits,
  // searched in slices so the page stays responsive.
  function solve(challenge, bits) {
    return new Promise(function (resolve) {
      var nonce = 0;
      (function slice() {
        for (var end = nonce + 20000; nonce < end; nonce++) {
          if (zeroBits(sha256.array(challenge + ":" + nonce)) >= bits) {
            resolve(String(nonce));
            return;
          }
        }
        setTimeout(slice, 0);
      })();
    });
  }

  // A large photo is made smaller in the browser unless its position is wanted (drawing it
  // on a canvas drops its EXIF). The server re-encodes every photo anyway.
  function smaller(file, keepPosition) {
    if (keepPosition || file.size < 1024 * 1024 || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (image) {
      var scale = Math.min(1, 2048 / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(image.width * scale);
      canvas.height = Math.round(image.height * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.85);
      });
    }, function () { return file; });
  }

  async function categories() {
    var response = await fetch(API + "form", { headers: HEADERS });
    if (!response.ok) return;
    var offered = await response.json();
    var tree = offered.categories;
    $("max-photos").textContent = offered.photos_max;
    var select = $("category");
    var help = {};
    tree.items.forEach(function (top) {
      var group = document.createElement("optgroup");
      group.label = top.name;
      top.children.forEach(function (leaf) {
        var option = document.createElement("option");
        option.value = leaf.code;
        option.textContent = leaf.name;
        help[leaf.code] = leaf.help;
        group.appendChild(option);
      });
      select.appendChild(group);
    });
    select.addEventListener("change", function () {
      $("category-help").textContent = help[select.value] || "";
    });
  }

  function report() {
    var form = $("report");
    var key = null; // one Idempotency-Key per matter: a resend never makes a second one
    categories();
    form.addEventListener("input", function () { key = null; });
    $("locate").addEventListener("click", function () {
      var cannot = T("未能获取位置，请填写地址", "Your position is not available: please give the address");
      if (!navigator.geolocation) { $("located").textContent = cannot; return; }
      navigator.geolocation.getCurrentPosition(function (where) {
        $("lat").value = where.coords.latitude.toFixed(6);
        $("lon").value = where.coords.longitude.toFixed(6);
        $("located").textContent = T("已获取当前位置", "Position taken");
      }, function () { $("located").textContent = cannot; });
    });
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var photos = $("photos").files;
      var max = Number($("max-photos").textContent);
      if (!$("text").value.trim()) { say(T("请填写反映内容", "Please say what happened"), true); return; }
      if (!$("phone").value.trim()) { say(T("请填写手机号码", "Please give your mobile number"), true); return; }
      if (photos.length > max) { say(T("最多上传 " + max + " 张照片", "At most " + max + " photos"), true); return; }
      $("send").disabled = true;
      try {
        say(T("正在进行安全验证，请稍候…", "Checking that you are not a robot…"));
        var response = await fetch(API + "challenge", { headers: HEADERS });
        if (!response.ok) { say(await problem(response), true); return; }
        var challenge = await response.json();
        var nonce = await solve(challenge.challenge, challenge.bits);
        var data = new FormData();
        ["ticket_type", "category", "text", "place", "lat", "lon", "name", "phone"].forEach(function (name) {
          var field = form.elements[name];
          if (field.value) data.append(name, field.value);
        });
        data.append("share_place", $("share_place").checked ? "true" : "false");
        data.append("contact_consent", $("contact_consent").checked ? "true" : "false");
        data.append("challenge", challenge.challenge);
        data.append("nonce", nonce);
        for (var i = 0; i < photos.length; i++) {
          data.append("photos", await smaller(photos[i], $("share_place").checked), photos[i].name);
        }
        key = key || (Date.now().toString(36) + Math.random().toString(36).slice(2));
        say(T("正在提交…", "Sending…"));
        response = await fetch(API + "submissions", {
          method: "POST", body: data, headers: Object.assign({ "Idempotency-Key": key }, HEADERS)
        });
        if (!response.ok) { say(await problem(response), true); return; }
        var receipt = await response.json();
        form.hidden = true;
        $("number").textContent = receipt.number;
        $("progress-link").href = "progress.html?number=" + encodeURIComponent(receipt.number);
        $("receipt").hidden = false;
      } catch (e) {
        say(T("网络异常，请稍后重试（内容不会丢失）", "Network trouble: try again shortly (nothing you wrote is lost)"), true);
      } finally {
        $("send").disabled = false;
      }
    });
  }

  function progress() {
    var form = $("lookup");
    var given = new URLSearchParams(location.search).get("number");
    if (given) $("number").value = given;
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      $("result").hidden = true;
      var query = new URLSearchParams({
        number: $("number").value.trim().toUpperCase(), phone_tail: $("phone_tail").value.trim()
      });
      if (!/^\d{4}$/.test(query.get("phone_tail"))) {
        say(T("请输入手机号后四位数字", "Please give the last four digits of your phone"), true);
        return;
      }
      say(T("正在查询…", "Looking up…"));
      try {
        var response = await fetch(API + "progress?" + query, { headers: HEADERS });
        if (!response.ok) { say(await problem(response), true); return; }
        var found = await response.json();
        say("");
        $("r-number").textContent = found.number;
        $("r-stage").textContent = found.stage_label;
        $("r-received").textContent = shown(found.received_at);
        $("r-unit").textContent = found.unit_name || "—";
        $("r-due").textContent = found.due_at ? T(shown(found.due_at) + " 前", "by " + shown(found.due_at)) : "—";
        $("r-answer").textContent = found.answer || "—";
        $("result").hidden = false;
      } catch (e) {
        say(T("网络异常，请稍后重试", "Network trouble: try again shortly"), true);
      }
    });
  }

  var pages = { report: report, progress: progress };
  localise();
  pages[document.body.dataset.page]();
  return pages;
})();
