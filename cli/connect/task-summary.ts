/** "2/2 running", "1/2 running (1 FAILED)", "0" (a stopped connector has no tasks). */
export function taskSummary(tasks: ReadonlyArray<{ state: string }>): string {
  if (tasks.length === 0) return '0';
  const running = tasks.filter((t) => t.state === 'RUNNING').length;
  const others = new Map<string, number>();
  for (const t of tasks) if (t.state !== 'RUNNING') others.set(t.state, (others.get(t.state) ?? 0) + 1);
  const rest = [...others].map(([s, n]) => `${n} ${s}`).join(', ');
  return `${running}/${tasks.length} running${rest ? ` (${rest})` : ''}`;
}
