// Shows email HTML (already sanitised by the API) in a frame that can never run scripts or load what we don't allow.
import { Box } from "@mantine/core";

/**
 * The API ends a customer's HTML with this comment when it dropped remote images (tracking pixels) from it.
 * Customer content cannot end the HTML with it (the API strips comments and escapes "<").
 */
export const REMOTE_IMAGES_BLOCKED = "<!--postdesk:remote-images-blocked-->";

/**
 * The document put in the frame: a Content-Security-Policy that forbids scripts, frames, forms and any
 * fetch except data: images (inline images, substituted by the app) and, only when the user asked for
 * them, https images; `sandbox=""` on the iframe adds an opaque origin and no scripting at all, so even
 * a sanitiser miss cannot act.
 */
export function frameDocument(html: string, allowRemoteImages: boolean): string {
  const images = allowRemoteImages ? "data: https:" : "data:";
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src ${images}; font-src data:; form-action 'none'; base-uri 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer"><base target="_blank"><style>body{font-family:system-ui,sans-serif;font-size:14px;line-height:1.5;margin:12px;color:#212529;word-wrap:break-word}img{max-width:100%}</style>
</head><body>${html}</body></html>`;
}

/** The API blocked remote images in this HTML: offer "show them". */
export function hasBlockedRemoteImages(html: string): boolean {
  return html.endsWith(REMOTE_IMAGES_BLOCKED);
}

export function SafeHtmlFrame({ html, title, allowRemoteImages = false, height = 420 }: { html: string; title: string; allowRemoteImages?: boolean; height?: number }) {
  return (
    <Box
      component="iframe"
      title={title}
      sandbox=""
      referrerPolicy="no-referrer"
      srcDoc={frameDocument(html, allowRemoteImages)}
      w="100%"
      h={height}
      style={{ border: "1px solid var(--mantine-color-gray-3)", borderRadius: "var(--mantine-radius-md)", background: "white", resize: "vertical" }}
    />
  );
}
