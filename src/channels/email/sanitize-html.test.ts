import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseEmail } from "./parse.ts";
import { sanitizeEmailHtml } from "./sanitize-html.ts";

const clean = sanitizeEmailHtml;

/** Everything in the output that could run code or leave the page, whatever the input. */
function dangers(html: string): string[] {
  const found: string[] = [];
  if (
    /<\s*(script|iframe|object|embed|form|input|button|svg|math|style|base|meta|link|frame|textarea)\b/i.test(
      html,
    )
  )
    found.push("element");
  if (/<[^>]*\son[a-z]+\s*=/i.test(html)) found.push("handler");
  if (/(href|src)\s*=\s*"\s*(javascript|vbscript|data:text)/i.test(html)) found.push("url");
  if (/style="[^"]*(expression|url\s*\()/i.test(html)) found.push("style");
  return found;
}

describe("sanitizeEmailHtml", () => {
  it("keeps ordinary email formatting", () => {
    expect(clean('<div dir="ltr"><p>Hello <b>Ada</b>,<br>your <i>order</i></p></div>')).toBe(
      '<div dir="ltr"><p>Hello <b>Ada</b>,<br>your <i>order</i></p></div>',
    );
    expect(clean('<table width="100%" cellpadding="0"><tr><td bgcolor="#fff">x</td></tr></table>')).toBe(
      '<table width="100%" cellpadding="0"><tr><td bgcolor="#fff">x</td></tr></table>',
    );
  });

  it("removes script and style elements with their content", () => {
    expect(clean("<p>a</p><script>alert(1)</script><p>b</p>")).toBe("<p>a</p><p>b</p>");
    expect(clean("<SCRIPT type=text/javascript>alert(1)</SCRIPT >ok")).toBe("ok");
    expect(clean("<style>body{background:url(javascript:x)}</style>ok")).toBe("ok");
    expect(clean("<script>unterminated")).toBe("");
    // a tag inside raw text is not a tag
    expect(clean("<script><p>x</p></script>after")).toBe("after");
  });

  it("removes event handlers in any case and spacing", () => {
    expect(clean('<img src="https://a.example/x.png" onerror="alert(1)" alt="x">')).toBe(
      '<img src="https://a.example/x.png" alt="x">',
    );
    expect(clean("<img src=x ONERROR=alert(2)>")).toBe("<img>");
    expect(clean('<p onclick = "x()" onmouseover=y>t</p>')).toBe("<p>t</p>");
    expect(clean('<body onload="alert(1)"><p>hi</p></body>')).toBe("<p>hi</p>");
  });

  it("drops javascript:, vbscript: and data: links however they are disguised", () => {
    for (const href of [
      "javascript:alert(1)",
      "  JaVaScRiPt:alert(1)",
      "jav&#x09;ascript:alert(1)",
      "java\nscript:alert(1)",
      "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
      "javascript&colon;alert(1)",
      "vbscript:msgbox(1)",
      "data:text/html;base64,PHNjcmlwdD4=",
      "/relative/path",
      "//evil.example/x",
    ]) {
      expect(clean(`<a href="${href}">x</a>`), href).toBe(
        '<a rel="noopener noreferrer nofollow" target="_blank">x</a>',
      );
    }
  });

  it("keeps http, https, mailto and tel links, opened safely in a new tab", () => {
    expect(clean('<a href="https://melodia.example/help?a=1&amp;b=2">Help</a>')).toBe(
      '<a href="https://melodia.example/help?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">Help</a>',
    );
    expect(clean('<a href="mailto:a@b.example" target="_self" rel="opener">m</a>')).toBe(
      '<a href="mailto:a@b.example" rel="noopener noreferrer nofollow" target="_blank">m</a>',
    );
  });

  it("keeps raster data: images and cid: images, refuses SVG and other data: sources", () => {
    expect(clean('<img src="data:image/png;base64,iVBORw0KGgo=">')).toBe(
      '<img src="data:image/png;base64,iVBORw0KGgo=">',
    );
    expect(clean('<img src="cid:photo@x.example">')).toBe('<img src="cid:photo@x.example">');
    expect(clean('<img src="data:image/svg+xml;base64,PHN2Zz4=">')).toBe("<img>");
    expect(clean('<img src="data:text/html,<script>alert(1)</script>">')).toBe("<img>");
    expect(clean('<img src="javascript:alert(1)">')).toBe("<img>");
  });

  it("removes iframes, objects, embeds, forms and their controls", () => {
    expect(clean('<iframe src="https://evil.example"></iframe>a')).toBe("a");
    expect(clean('<object data="x.swf"><param name=a value=b>fallback</object>b')).toBe("b");
    expect(clean('<embed src="y.swf">c<p>still here</p>')).toBe("c<p>still here</p>");
    expect(
      clean('<form action="https://evil.example"><input name=p type=password><button>Go</button>text</form>'),
    ).toBe("text");
    expect(clean("<svg><script>alert(1)</script></svg>after<svg/>kept")).toBe("afterkept");
    expect(clean("<base href='https://evil.example/'><meta http-equiv=refresh content='0;url=x'>ok")).toBe(
      "ok",
    );
  });

  it("keeps safe inline styles and drops expressions, urls and bindings", () => {
    expect(clean('<div style="color: red; width: expression(alert(1))">x</div>')).toBe(
      '<div style="color: red">x</div>',
    );
    expect(clean('<p style="background:url(javascript:alert(1));font-weight:bold">x</p>')).toBe(
      '<p style="font-weight: bold">x</p>',
    );
    expect(clean('<p style="behavior:url(x.htc)">x</p>')).toBe("<p>x</p>");
    expect(clean('<p style="color:\\72 ed">x</p>')).toBe("<p>x</p>");
    expect(clean('<p style="position:fixed;top:0">x</p>')).toBe('<p style="top: 0">x</p>');
  });

  it("escapes text and attribute values so nothing breaks out", () => {
    expect(clean('<p title="&quot;><script>alert(1)</script>">q</p>')).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">q</p>',
    );
    expect(clean("a < b && c > d")).toBe("a &lt; b &amp;&amp; c &gt; d");
    expect(clean("caf&eacute; &amp; cr&egrave;me")).toBe("caf&eacute; &amp; cr&egrave;me");
    expect(clean("<!--<img src=x onerror=alert(1)>-->ok")).toBe("ok");
    expect(clean("<scr<script>ipt>alert(1)</script>")).toBe("ipt&gt;alert(1)");
  });

  it("closes what it opened and ignores stray end tags", () => {
    expect(clean("<div><p>unclosed")).toBe("<div><p>unclosed</p></div>");
    expect(clean("</div></table>text<b>bold")).toBe("text<b>bold</b>");
  });

  it("drops ids and classes, so an email cannot clobber the page's DOM or borrow its styles", () => {
    expect(clean('<div id="app" class="admin-button" name="x">x</div>')).toBe("<div>x</div>");
  });

  it("neutralises the XSS fixture as mailparser hands it over", async () => {
    const mail = await parseEmail(
      readFileSync(new URL("../../../test/fixtures/email/14-html-xss.eml", import.meta.url)),
    );
    const out = clean(mail.html ?? "");
    expect(dangers(out)).toEqual([]);
    // what is left of the attacks is inert: a text run and an escaped title, nothing else
    expect(out.match(/alert\(\d+\)/g)).toEqual(["alert(9)", "alert(12)"]);
    expect(out).toContain("ipt&gt;alert(9)");
    expect(out).toContain('<p title="&quot;&gt;&lt;script&gt;alert(12)&lt;/script&gt;">quoted</p>');
    expect(out).toContain(
      '<a href="https://melodia.example/help" rel="noopener noreferrer nofollow" target="_blank">Help centre</a>',
    );
    expect(out).toContain('<img src="data:image/png;base64,iVBORw0KGgo=" alt="pixel">');
    expect(out).toContain("<b>see below</b>");
  });

  it("never lets an element, handler or dangerous URL through, for any mix of HTML pieces", () => {
    const piece = fc.constantFrom(
      "<script>",
      "</script>",
      "<img src=x onerror=alert(1)>",
      '<a href="javascript:alert(1)">',
      "<a href=https://ok.example>",
      "<svg>",
      "<svg/>",
      "</svg>",
      "<iframe>",
      "<style>",
      "<!--",
      "-->",
      "<",
      ">",
      '"',
      "'",
      "=",
      " on",
      "error=",
      "<p ",
      "<div style='",
      "expression(",
      "</",
      "<math>",
      "<object>",
      "</object>",
      "&#106;",
      "text",
      "<b>",
      "</b>",
      "<form>",
      "<input>",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const out = clean(parts.join(""));
        expect(dangers(out)).toEqual([]);
        // sanitising is stable: clean output passes through unchanged
        expect(clean(out)).toBe(out);
      }),
      { numRuns: 500 },
    );
  });
});
