// ${variable} placeholders, parsed exactly like the API (backend templates/placeholders.py), for the editor's live checks.
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const MAX_NAME_LENGTH = 64;

export type PlaceholderScan = { variables: string[]; problem: null } | { variables: string[]; problem: string };

/** Variables used in order of first appearance, or the API's message for the first malformed placeholder. */
export function scanPlaceholders(text: string): PlaceholderScan {
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "$" || i + 1 >= text.length || !"${".includes(text[i + 1])) {
      i += 1;
      continue;
    }
    if (text[i + 1] === "$") {
      i += 2;
      continue;
    }
    const start = i;
    const close = text.indexOf("}", i + 2);
    NAME.lastIndex = i + 2;
    const match = NAME.exec(text);
    if (!match) return { variables: names, problem: malformed(start + 1, "placeholder “${” must be followed by a variable name") };
    const end = NAME.lastIndex;
    if (end >= text.length || text[end] !== "}") {
      if (close === -1) return { variables: names, problem: malformed(start + 1, "placeholder “${” is never closed with “}”") };
      return { variables: names, problem: malformed(end + 1, "a variable name may only contain letters, digits and underscores") };
    }
    if (match[0].length > MAX_NAME_LENGTH) {
      return { variables: names, problem: malformed(start + 1, `a variable name has at most ${MAX_NAME_LENGTH} characters`) };
    }
    if (!names.includes(match[0])) names.push(match[0]);
    i = end + 1;
  }
  return { variables: names, problem: null };
}

function malformed(position: number, reason: string): string {
  return `Malformed placeholder at character ${position}: ${reason}.`;
}

/** Variables of several texts together (subject first), without repeats. */
export function variablesOf(...texts: string[]): string[] {
  return Array.from(new Set(texts.flatMap((text) => scanPlaceholders(text).variables)));
}
