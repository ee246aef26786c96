/**
 * The images a Dockerfile builds FROM that berth can pull before the build (pure), so that the pull
 * shows its progress, uses the registry credentials berth has, and fails with the pull's own error. Left
 * to the build (which pulls them itself, and whose failure ./pull-errors.ts: baseImageError still reads):
 * a FROM with a variable (`FROM node:${VERSION}`) or a `--platform`, an earlier stage, `scratch`, and every
 * FROM of a Dockerfile that changes its escape character.
 */

export function baseImages(dockerfile: string): string[] {
  if (/^#\s*escape\s*=/im.test(leadingComments(dockerfile))) return [];
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of instructions(dockerfile)) {
    const match = /^FROM\s+(.+)$/i.exec(line);
    if (!match) continue;
    const words = match[1].split(/\s+/);
    const flags = words.filter((word) => word.startsWith('--'));
    const [image, as, stage] = words.filter((word) => !word.startsWith('--'));
    // Only stages named before this FROM: `FROM node AS node` pulls node.
    const earlierStage = image !== undefined && stages.has(image.toLowerCase());
    if (as?.toLowerCase() === 'as' && stage) stages.add(stage.toLowerCase());
    if (!image || earlierStage || flags.some((flag) => /^--platform=/i.test(flag))) continue;
    if (image.includes('$') || image.toLowerCase() === 'scratch') continue;
    if (!images.includes(image)) images.push(image);
  }
  return images;
}

/** The Dockerfile's instructions, one per entry: comments dropped, lines ending in `\` joined to the next. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole) out.push(whole);
  }
  if (pending.trim()) out.push(pending.trim());
  return out;
}

/** Parser directives sit in the comments before the first instruction. */
function leadingComments(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line && !line.startsWith('#')) break;
    lines.push(line);
  }
  return lines.join('\n');
}
