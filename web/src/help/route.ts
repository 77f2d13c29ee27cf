/** Where a help-center address points: `/help/{org}/` or `/help/{org}/articles/{id}`. */
export interface HelpRoute {
  org: string;
  articleId: number | null;
}

export function parseHelpPath(path: string): HelpRoute | null {
  const m = /^\/help\/([a-z0-9][a-z0-9-]{0,62})(?:\/(?:articles\/(\d{1,18}))?)?\/?$/.exec(path);
  if (!m) return null;
  return { org: m[1], articleId: m[2] ? Number(m[2]) : null };
}
