import { Argument, type Command, type Option } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/**
 * `erpstream completion bash|zsh`: a completion script generated from the command tree itself, so it never
 * lags behind the commands. Connector names complete live: the script runs `erpstream connectors list -o json`
 * quietly (stderr dropped, the current context and ERPSTREAM_CONNECT_URL apply) whenever a command expects one.
 */

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/** Positional arguments that name a connector, per command path. */
const CONNECTOR_ARG = /^names?$/;
const CONNECTOR_GROUPS = new Set(['connectors', 'tasks', 'offsets']);

export interface CommandNode {
  /** Words after `erpstream`, e.g. `connectors get`. Empty for the root. */
  path: string;
  description: string;
  subcommands: Array<{ name: string; aliases: string[]; description: string }>;
  /** Flags as typed: `--output`, `-o`. */
  flags: string[];
  /** Flags that take a value, and the values they accept when known. */
  valueFlags: Array<{ flags: string[]; choices: string[] | null; files: boolean }>;
  /** The first positional argument is a connector name. */
  connectorArg: boolean;
  /** The first positional argument's fixed choices, if any. */
  argChoices: string[] | null;
}

function optionFlags(o: Option): string[] {
  return [o.long, o.short].filter((f): f is string => typeof f === 'string' && f.length > 0);
}

/** Walks the command tree (hidden commands, like `help`, included as commander lists them). */
export function commandTree(root: Command): CommandNode[] {
  const nodes: CommandNode[] = [];
  const visit = (cmd: Command, words: string[], inherited: readonly Option[]) => {
    const options = [...inherited, ...cmd.options];
    const group = words[0];
    const args = cmd.registeredArguments;
    nodes.push({
      path: words.join(' '),
      description: cmd.description(),
      subcommands: cmd.commands.map((c) => ({ name: c.name(), aliases: c.aliases(), description: c.description() })),
      flags: [...new Set([...options.flatMap(optionFlags), '--help', '-h'])],
      valueFlags: options
        .filter((o) => o.required || o.optional)
        .map((o) => ({
          flags: optionFlags(o),
          choices: o.argChoices ? [...o.argChoices] : null,
          files: /file|path|dir/i.test(o.flags),
        })),
      connectorArg:
        group !== undefined && CONNECTOR_GROUPS.has(group) && args.length > 0 && CONNECTOR_ARG.test(args[0]!.name()),
      argChoices: args[0]?.argChoices ? [...args[0].argChoices] : null,
    });
    // Global options (-o, --no-color) are accepted after any subcommand.
    const passDown = words.length === 0 ? cmd.options.filter((o) => o.long !== '--version') : inherited;
    for (const sub of cmd.commands) {
      visit(sub, [...words, sub.name()], passDown);
      for (const alias of sub.aliases()) visit(sub, [...words, alias], passDown);
    }
  };
  visit(root, [], []);
  return nodes;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function caseArms(nodes: CommandNode[], body: (n: CommandNode) => string | null): string {
  return nodes
    .map((n) => {
      const b = body(n);
      return b === null ? null : `    ${q(n.path)}) ${b} ;;`;
    })
    .filter((x): x is string => x !== null)
    .join('\n');
}

/** Shell functions both scripts share (POSIX `case`, valid in bash and zsh). */
function sharedFunctions(nodes: CommandNode[], prog: string): string {
  const valueFlags = [...new Set(nodes.flatMap((n) => n.valueFlags.flatMap((v) => v.flags)))].sort();
  const choiceArms = new Map<string, string[]>();
  const fileFlags = new Set<string>();
  for (const n of nodes) {
    for (const v of n.valueFlags) {
      for (const f of v.flags) {
        if (v.choices) choiceArms.set(f, v.choices);
        if (v.files) fileFlags.add(f);
      }
    }
  }
  return `_${prog}_connector_names() {
  # Live: asks the current cluster (context, --connect-url defaults, ERPSTREAM_CONNECT_URL), quietly.
  command ${prog} connectors list -o json 2>/dev/null | command grep -o '"name": *"[^"]*"' | command sed -e 's/^"name": *"//' -e 's/"$//'
}

_${prog}_subcommands() {
  case "$1" in
${caseArms(nodes, (n) => (n.subcommands.length === 0 ? null : `echo ${q(n.subcommands.flatMap((s) => [s.name, ...s.aliases]).join(' '))}`))}
  esac
}

_${prog}_flags() {
  case "$1" in
${caseArms(nodes, (n) => `echo ${q(n.flags.join(' '))}`)}
  esac
}

_${prog}_arg_values() {
  case "$1" in
${caseArms(nodes, (n) => (n.argChoices ? `echo ${q(n.argChoices.join(' '))}` : null))}
  esac
}

_${prog}_wants_connector() {
  case "$1" in
${caseArms(nodes, (n) => (n.connectorArg ? 'return 0' : null))}
  esac
  return 1
}

# Flags followed by a value (the value is not a command word).
_${prog}_takes_value() {
  case "$1" in
    ${valueFlags.length > 0 ? valueFlags.map(q).join('|') : "''"}) return 0 ;;
  esac
  return 1
}

# Values of flags with fixed choices; "FILES" for flags taking a path.
_${prog}_flag_values() {
  case "$1" in
${[...choiceArms].map(([f, c]) => `    ${q(f)}) echo ${q(c.join(' '))} ;;`).join('\n')}
${fileFlags.size > 0 ? `    ${[...fileFlags].map(q).join('|')}) echo FILES ;;` : ''}
  esac
}

# The command path typed so far (words that are subcommands), from the words before the cursor.
_${prog}_path() {
  local cmdpath="" word skip=0 subs
  for word in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$word" in
      --*=*) continue ;;
      -*) if _${prog}_takes_value "$word"; then skip=1; fi; continue ;;
    esac
    subs=" $(_${prog}_subcommands "$cmdpath") "
    case "$subs" in
      *" $word "*) cmdpath="\${cmdpath:+$cmdpath }$word" ;;
      *) break ;;
    esac
  done
  echo "$cmdpath"
}
`;
}

export function bashCompletionScript(root: Command): string {
  const prog = root.name();
  const nodes = commandTree(root);
  return `# ${prog} completion for bash. Load it in the current shell:
#   source <(${prog} completion bash)
# or install it:  ${prog} completion bash > ~/.local/share/bash-completion/completions/${prog}
${sharedFunctions(nodes, prog)}
_${prog}_complete() {
  local cur prev cmdpath values
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmdpath="$(_${prog}_path "\${COMP_WORDS[@]:1:COMP_CWORD-1}")"
  if [ "$COMP_CWORD" -gt 1 ] && _${prog}_takes_value "$prev"; then
    values="$(_${prog}_flag_values "$prev")"
    if [ "$values" = FILES ]; then
      COMPREPLY=($(compgen -f -- "$cur"))
    elif [ -n "$values" ]; then
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    else
      COMPREPLY=()
    fi
    return 0
  fi
  case "$cur" in
    -*) COMPREPLY=($(compgen -W "$(_${prog}_flags "$cmdpath")" -- "$cur")); return 0 ;;
  esac
  local subs
  subs="$(_${prog}_subcommands "$cmdpath")"
  if [ -n "$subs" ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  elif _${prog}_wants_connector "$cmdpath"; then
    COMPREPLY=($(compgen -W "$(_${prog}_connector_names)" -- "$cur"))
  elif [ -n "$(_${prog}_arg_values "$cmdpath")" ]; then
    COMPREPLY=($(compgen -W "$(_${prog}_arg_values "$cmdpath")" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}
complete -o default -F _${prog}_complete ${prog}
`;
}

export function zshCompletionScript(root: Command): string {
  const prog = root.name();
  const nodes = commandTree(root);
  const describeArms = caseArms(nodes, (n) =>
    n.subcommands.length === 0
      ? null
      : `subs=(${n.subcommands
          .flatMap((s) =>
            [s.name, ...s.aliases].map((name) =>
              q(`${name.replace(/:/g, '\\:')}:${s.description.replace(/\n/g, ' ')}`),
            ),
          )
          .join(' ')})`,
  );
  return `#compdef ${prog}
# ${prog} completion for zsh. Load it in the current shell:
#   source <(${prog} completion zsh)
# or install it as _${prog} in a directory on $fpath (e.g. ${prog} completion zsh > ~/.zfunc/_${prog}).
${sharedFunctions(nodes, prog)}
_${prog}() {
  local cur prev cmdpath values
  local -a subs reply
  cur="\${words[CURRENT]}"
  prev="\${words[CURRENT-1]}"
  cmdpath="$(_${prog}_path "\${(@)words[2,CURRENT-1]}")"
  if (( CURRENT > 2 )) && _${prog}_takes_value "$prev"; then
    values="$(_${prog}_flag_values "$prev")"
    if [[ "$values" == FILES ]]; then
      _files
    elif [[ -n "$values" ]]; then
      compadd -- \${=values}
    fi
    return
  fi
  if [[ "$cur" == -* ]]; then
    compadd -- \${=$(_${prog}_flags "$cmdpath")}
    return
  fi
  case "$cmdpath" in
${describeArms}
  esac
  if (( \${#subs} > 0 )); then
    _describe -t commands '${prog} command' subs
  elif _${prog}_wants_connector "$cmdpath"; then
    reply=(\${(f)"$(_${prog}_connector_names)"})
    compadd -- \${reply[@]}
  elif [[ -n "$(_${prog}_arg_values "$cmdpath")" ]]; then
    compadd -- \${=$(_${prog}_arg_values "$cmdpath")}
  else
    _files
  fi
}

if [[ "\${funcstack[1]}" == _${prog} ]]; then
  _${prog} "$@"
else
  compdef _${prog} ${prog}
fi
`;
}

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh); connector names complete live')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(erpstream completion bash)\n  erpstream completion zsh > ~/.zfunc/_erpstream\n',
    )
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw CliError.invalidInput(`Unknown shell "${shell}".`, `Use one of: ${SHELLS.join(', ')}.`);
      }
      ctx.stdout.write(shell === 'bash' ? bashCompletionScript(program) : zshCompletionScript(program));
    });
}
