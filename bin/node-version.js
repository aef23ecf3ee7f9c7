// The oldest Node erpstream runs on (package.json "engines"; @platformatic/kafka 2 needs it). npm only warns about
// "engines", and an older Node gets surprisingly far: the CLI answers, a worker starts, and only its Kafka producer
// fails later with "Promise.withResolvers is not a function" in a task's trace. So the launcher refuses at once.
export const MIN_NODE = '22.22.0';

/** The message for a Node older than MIN_NODE, or undefined when `version` (e.g. "20.20.2") is new enough. */
export function nodeTooOld(version) {
  const have = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const want = MIN_NODE.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) > want[i]) return undefined;
    if ((have[i] ?? 0) < want[i]) {
      return (
        `error: erpstream needs Node >= ${MIN_NODE} (Node 24 LTS recommended); this is Node ${version}.\n` +
        'hint: in an erpstream checkout, `eval "$(scripts/node24)"` puts Node 24 first on PATH in this shell ' +
        '(see README.md); otherwise install Node 24 LTS.\n'
      );
    }
  }
  return undefined;
}
