using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ShmKit.Cli;

/// <summary>
/// Shell completion on System.CommandLine's completion engine, through the protocol of its <c>[suggest]</c> directive
/// (the one dotnet-suggest speaks): <c>shmkit "[suggest:N]" "shmkit sem o"</c> prints, one a line, what can stand at
/// character position N of that command line (subcommands, options, option values such as <c>--kind</c>'s). The
/// scripts of <c>shmkit completion bash|zsh|fish</c> ask exactly that and leave the matching to the shell.
/// </summary>
/// <remarks>
/// System.CommandLine answers the directive only for a RootCommand, whose name is the executable's file name
/// (ShmKit.Cli under the dotnet host); shmkit's root is a plain command named shmkit (see
/// <see cref="ShmKitCommandLine.CreateRoot"/>), so this class does what the directive's action does: parse the line
/// with the whole tree and list <see cref="ParseResult.GetCompletions"/> at the position. The first word of the line
/// is the program however it was typed (shmkit, ./shmkit, /usr/local/bin/shmkit).
/// </remarks>
internal static partial class CliCompletion
{
    /// <summary>The shells <c>shmkit completion</c> writes scripts for.</summary>
    internal static readonly string[] Shells = ["bash", "zsh", "fish"];

    /// <summary>
    /// If <paramref name="args"/> is a suggest directive (<c>[suggest]</c> or <c>[suggest:N]</c>, then the command line
    /// as one argument), writes the completions to <paramref name="output"/> and returns true.
    /// </summary>
    internal static bool TryRunSuggestDirective(Command root, string[] args, TextWriter output, out int exitCode)
    {
        exitCode = CliErrors.Success;
        if (args.Length == 0 || SuggestDirective().Match(args[0]) is not { Success: true } match)
        {
            return false;
        }

        // The line to complete: the last argument (dotnet-suggest passes exactly one); without a position, its end.
        string line = args.Length > 1 ? args[^1] : "shmkit ";
        int position = line.Length;
        if (match.Groups["position"].Success
            && (!int.TryParse(match.Groups["position"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out position) || position > line.Length))
        {
            position = line.Length;
        }

        foreach (var completion in root.Parse(line).GetCompletions(position))
        {
            string text = completion.InsertText ?? completion.Label;
            output.WriteLine(text.ReplaceLineEndings(" ").Replace('\t', ' '));
        }

        return true;
    }

    /// <summary>The completion script for <paramref name="shell"/> (one of <see cref="Shells"/>).</summary>
    internal static string Script(string shell) => shell switch
    {
        "bash" => BashScript,
        "zsh" => ZshScript,
        "fish" => FishScript,
        _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, "bash, zsh or fish"),
    };

    /// <summary>
    /// bash: COMP_LINE and COMP_POINT are the line and the cursor; compgen keeps the candidates that start with the
    /// word being completed; with none, <c>-o default</c> completes file names (--file, --out).
    /// </summary>
    private const string BashScript = """
        # shmkit completion for bash. Load it with
        #   source <(shmkit completion bash)
        # in ~/.bashrc, or install it: shmkit completion bash > /etc/bash_completion.d/shmkit
        _shmkit_complete()
        {
            local IFS=$'\n' program="${COMP_WORDS[0]}" candidates
            [[ $program == "~/"* ]] && program="$HOME/${program#\~/}"
            candidates=$("$program" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) || return 0
            COMPREPLY=($(compgen -W "$candidates" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _shmkit_complete shmkit
        """;

    /// <summary>zsh: the words up to the cursor, joined, are the line; compadd filters by the prefix typed.</summary>
    private const string ZshScript = """
        #compdef shmkit
        # shmkit completion for zsh. Load it with
        #   source <(shmkit completion zsh)
        # in ~/.zshrc (after compinit), or save it as _shmkit in a directory of $fpath.
        _shmkit() {
            local line="${(j: :)words[1,CURRENT]}"
            local -a candidates
            candidates=("${(@f)$(${words[1]} "[suggest:${#line}]" "$line" 2>/dev/null)}")
            candidates=(${candidates:#})
            if (( ${#candidates} )); then
                compadd -a candidates
            else
                _files
            fi
        }
        if [ "$funcstack[1]" = "_shmkit" ]; then
            _shmkit "$@"
        else
            compdef _shmkit shmkit
        fi
        """;

    /// <summary>fish: the current command up to the cursor is the line; fish filters by the token typed.</summary>
    private const string FishScript = """
        # shmkit completion for fish. Load it with
        #   shmkit completion fish | source
        # or install it: shmkit completion fish > ~/.config/fish/completions/shmkit.fish
        function __shmkit_complete
            set -l line (commandline -cp)
            set -l program (commandline -opc)[1]
            set -l candidates ($program "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null)
            if test (count $candidates) -gt 0
                printf '%s\n' $candidates
            else
                __fish_complete_path (commandline -ct)
            end
        end
        complete -c shmkit -f -a '(__shmkit_complete)'
        """;

    [GeneratedRegex(@"^\[suggest(?::(?<position>[0-9]+))?\]$", RegexOptions.CultureInvariant)]
    private static partial Regex SuggestDirective();
}
