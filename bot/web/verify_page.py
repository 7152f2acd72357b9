"""The verification page: what a phone shows when it scans the QR code of a report or notice.

The same address (`GET /verify?number=&code=`) answers JSON to a client that asks for it and this
page to a browser (bot/web/page.py `wants_html`). It shows the verdict in plain Chinese — genuine,
altered, wrong code, unknown number — and, for a genuine document, what the document printed:
number, kind, subject (a natural person's name masked to the surname, as the public rules say;
their ID is printed masked already), reader, issuer and date. The person can pick the PDF on the
phone: the page computes its SHA-256 in the browser (Web Crypto, or the page's own SHA-256 where
Web Crypto is unavailable, as on a plain-http intranet address) and compares it with the hash of the
file the platform issued; the file never leaves the phone. Without number and code it is a form
to type them in (`form_page`), submitted to the same address on this host only (the page's
Content-Security-Policy allows forms to go nowhere else).
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from bot.web.page import esc, page
from rules.masking import mask_person_name
from rules.verification import VERIFY_PATH
from services.issued_documents import DocumentCheck
from services.settings import Settings

VERDICTS = {
    "genuine": ("✓ 真实有效", "该文件由本平台出具，编号与核验码一致。"),
    "altered": ("✗ 文件已被改动", "编号和核验码正确，但文件内容与平台出具的不一致，不可作为依据。"),
    "wrong_code": ("核验码不正确", "请核对文件上的核验码；如仍不一致，该文件可能不是本平台出具的。"),
    "unknown": ("查无此编号", "本平台没有出具过该编号的文件，请核对编号。"),
}
SAME = "✓ 文件一致：与平台出具的文件完全相同。"
DIFFERENT = "✗ 文件不一致：该文件已被改动，内容不可信。"
NOT_PDF = "请选择 PDF 文件。"


def _first_primes(n: int) -> list[int]:
    found: list[int] = []
    candidate = 2
    while len(found) < n:
        if all(candidate % p for p in found if p * p <= candidate):
            found.append(candidate)
        candidate += 1
    return found


def _icbrt(n: int) -> int:
    x = 1 << ((n.bit_length() + 2) // 3)
    while True:
        y = (2 * x + n // (x * x)) // 3
        if y >= x:
            return x
        x = y


# SHA-256 round constants (FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube
# roots of the first 64 primes), computed exactly rather than copied.
_K = [_icbrt(p << 96) & 0xFFFFFFFF for p in _first_primes(64)]

SCRIPT = """
const K = new Uint32Array([%K%]);
function sha256Fallback(bytes) {
  const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const l = bytes.length, n = ((l + 9 + 63) >> 6) << 6, m = new Uint8Array(n);
  m.set(bytes); m[l] = 0x80;
  const v = new DataView(m.buffer), W = new Uint32Array(64), r = (x, k) => (x >>> k) | (x << (32 - k));
  v.setUint32(n - 4, (l * 8) >>> 0); v.setUint32(n - 8, Math.floor(l / 0x20000000));
  for (let i = 0; i < n; i += 64) {
    for (let t = 0; t < 16; t++) W[t] = v.getUint32(i + t * 4);
    for (let t = 16; t < 64; t++) {
      const a = W[t - 15], b = W[t - 2];
      W[t] = W[t - 16] + (r(a, 7) ^ r(a, 18) ^ (a >>> 3)) + W[t - 7] + (r(b, 17) ^ r(b, 19) ^ (b >>> 10));
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let t = 0; t < 64; t++) {
      const t1 = (h + (r(e, 6) ^ r(e, 11) ^ r(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
      const t2 = ((r(a, 2) ^ r(a, 13) ^ r(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  return Array.from(H, x => x.toString(16).padStart(8, "0")).join("");
}
window.sha256Fallback = sha256Fallback;
async function sha256Hex(buffer) {
  if (window.crypto && crypto.subtle && window.isSecureContext) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return Array.from(new Uint8Array(digest), x => x.toString(16).padStart(2, "0")).join("");
  }
  return sha256Fallback(new Uint8Array(buffer));
}
const input = document.getElementById("pdf"), out = document.getElementById("compare");
if (input) input.addEventListener("change", async () => {
  const file = input.files[0];
  out.className = "result"; out.textContent = "正在比对……";
  if (!file) { out.textContent = ""; return; }
  const buffer = await file.arrayBuffer();
  const head = new TextDecoder("latin1").decode(new Uint8Array(buffer.slice(0, 5)));
  if (head !== "%PDF-") { out.textContent = %NOT_PDF%; return; }
  const hex = await sha256Hex(buffer);
  const same = hex === out.dataset.sha256;
  out.className = "result " + (same ? "same" : "different");
  out.textContent = same ? %SAME% : %DIFFERENT%;
  out.dataset.computed = hex;
});
"""


def _script() -> str:
    import json

    return (
        SCRIPT.replace("%K%", ", ".join(f"0x{k:08x}" for k in _K))
        .replace("%SAME%", json.dumps(SAME, ensure_ascii=False))
        .replace("%DIFFERENT%", json.dumps(DIFFERENT, ensure_ascii=False))
        .replace("%NOT_PDF%", json.dumps(NOT_PDF, ensure_ascii=False))
    )


def public_subject(name: str | None, code: str | None, mask_names: bool) -> str:
    """The subject as the public may see it: a natural person (printed with a masked ID, "*" in the
    code) by surname only; an organisation as printed (its USCC is public)."""
    if name and mask_names and code and "*" in code:
        return mask_person_name(name)
    return name or ""


def form_page(settings: Settings, number: str = "", code: str = "") -> HTMLResponse:
    """The form a person types a document's number and verification code into (both printed
    beside the QR code). A plain GET form to this host's verification address: it works without
    script, and the answer is the result page of the same address."""
    missing = "请填写核验码。" if number and not code else "请填写文件编号。" if code and not number else ""
    body = (
        "<h1>文件核验</h1>"
        "<p>请输入文件上印的编号和核验码（在二维码旁边），核验文件是否由本平台出具、是否被改动：</p>"
        + (f'<p class="result different" role="alert">{esc(missing)}</p>' if missing else "")
        + f'<form method="get" action="{esc(VERIFY_PATH)}" id="verify-form" accept-charset="utf-8">'
        '<label for="number">文件编号</label>'
        f'<input type="text" id="number" name="number" required maxlength="64" autocomplete="off" spellcheck="false"'
        f' placeholder="安信报〔2026〕000001号" value="{esc(number)}">'
        '<label for="code">核验码</label>'
        f'<input type="text" id="code" name="code" required maxlength="64" autocomplete="off" spellcheck="false"'
        f' autocapitalize="characters" placeholder="ABCD-EFGH-JKLM" value="{esc(code)}">'
        '<button type="submit" id="check">核验</button>'
        "</form>"
        '<p class="note">也可以用手机相机扫描文件上的二维码，直接打开核验结果。</p>'
    )
    return page("文件核验", settings.region.platform_name, body)


def result_page(result: DocumentCheck, settings: Settings) -> HTMLResponse:
    verdict, explanation = VERDICTS[result.status]
    parts = [
        "<h1>文件核验结果</h1>",
        f'<div class="verdict {result.status}" id="verdict" data-status="{result.status}">{esc(verdict)}'
        f"<small>{esc(explanation)}</small></div>",
    ]
    rows = [("文件编号", result.number)]
    if result.status in ("genuine", "altered"):
        issued = result.issued_at.astimezone(settings.tz).strftime("%Y年%m月%d日") if result.issued_at else ""
        rows += [
            ("文件类别", result.kind),
            ("主体名称", public_subject(result.subject_name, result.subject_code, settings.privacy.mask_person_names)),
            ("主体代码", result.subject_code),
            ("报告使用人", result.issued_to),
            ("出具机构", result.issuer),
            ("出具日期", issued),
        ]
        if result.period:
            rows.append(("报告期间", f"{result.period[0]:%Y年%m月%d日} 至 {result.period[1]:%Y年%m月%d日}"))
    parts.append("<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows if v) + "</dl>")
    script = ""
    if result.status == "genuine" and result.sha256:
        parts.append(
            "<h2>比对手中的文件</h2>"
            "<p>选择手机中的 PDF 文件，确认它与平台出具的文件完全一致：</p>"
            '<input type="file" id="pdf" class="picker" accept="application/pdf,.pdf">'
            '<label for="pdf" class="button">选择 PDF 文件比对</label>'
            f'<p class="result" id="compare" role="status" aria-live="polite" data-sha256="{esc(result.sha256)}"></p>'
            '<p class="note">比对在您的手机上完成，文件不会上传。</p>'
        )
        script = _script()
    parts.append('<p class="note">如有疑问，请联系出具机构；也可在公众号中发送 /checkreport 核验。</p>')
    return page("文件核验", settings.region.platform_name, "".join(parts), script)
