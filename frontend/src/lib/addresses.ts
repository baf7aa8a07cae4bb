// Address lists as agents type them, split like the API does (backend interactions/addressing.py).

/** Split on "," and ";" outside quoted display names and angle brackets. */
export function splitAddresses(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  let bracketed = false;
  for (const char of text) {
    if (char === '"' && !bracketed) quoted = !quoted;
    else if (char === "<" && !quoted) bracketed = true;
    else if (char === ">" && !quoted) bracketed = false;
    if ((char === "," || char === ";") && !quoted && !bracketed) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** The bare address of "Name <a@b>" or "a@b". */
function bareAddress(token: string): string {
  const angle = token.match(/<([^<>]*)>\s*$/);
  return (angle ? angle[1] : token).trim();
}

/** Tokens that fail the standard format rules (no "@", spaces, commas…) and so need the agent's confirmation. */
export function addressesNeedingConfirmation(...fields: string[]): string[] {
  return fields.flatMap(splitAddresses).filter((token) => !ADDRESS.test(bareAddress(token)));
}

/** The seed's wording, word for word, as the API also answers it. */
export function confirmationMessage(address: string): string {
  return `The input email address '${address}' appears to be invalid. Please confirm that you do want to use this email address, by pressing OK, or press Cancel and go back and correct it.`;
}
