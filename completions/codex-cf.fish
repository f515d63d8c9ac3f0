# fish completion for codex-cf
# codex-cf-completion-script: written by codex-cf; `codex-cf remove` deletes installed copies.
#
# Load:   codex-cf completion fish | source   or   codex-cf completion fish --install
# Alias:  `alias codex=codex-cf` (and any function defined with --wraps codex-cf)
#         completes as codex-cf by itself; for a function without --wraps add:
#         complete -c codex --wraps codex-cf
#
# codex-cf's own commands are completed here. Everything else goes to Codex's own
# completion (`codex completion fish`), loaded once per shell on first use under a
# private name, so that an alias named codex never loops back here; after that
# TAB runs fish functions only.

# The words of the command line before the cursor, the command name first.
function __codex_cf_tokens
    commandline -opc
end

# True while completing the first word after codex-cf.
function __codex_cf_first
    test (count (__codex_cf_tokens)) -eq 1
end

# True when the command line is `codex-cf COMMAND [SUB]...`, with SUB if given.
function __codex_cf_in --argument-names command sub
    set -l tokens (__codex_cf_tokens)
    test "$tokens[2]" = "$command"; or return 1
    test -z "$sub"; and return 0
    test "$tokens[3]" = "$sub"
end

# True when completing words of one of codex-cf's own commands.
function __codex_cf_own
    set -l tokens (__codex_cf_tokens)
    set -q tokens[2]; and contains -- $tokens[2] setup token doctor usage completion remove
end

# True right after `codex-cf token`.
function __codex_cf_token_first
    set -l tokens (__codex_cf_tokens)
    test (count $tokens) -eq 2; and test "$tokens[2]" = token
end

# Profile names: the <name>.config.toml files in Codex's home.
function __codex_cf_profiles
    set -l dir ~/.codex
    set -q CODEX_HOME[1]; and test -n "$CODEX_HOME"; and set dir $CODEX_HOME
    for file in $dir/*.config.toml
        string replace -r -- '^.*/(.*)\.config\.toml$' '$1' $file
    end
end

# The real Codex, as codex-cf finds it: $CODEX_CF_CODEX, else the first `codex`
# on PATH that is not codex-cf itself.
function __codex_cf_find_codex
    if set -q CODEX_CF_CODEX[1]; and test -n "$CODEX_CF_CODEX"
        echo $CODEX_CF_CODEX
        return 0
    end
    set -l self (command -s codex-cf)
    for candidate in (command -a codex)
        if set -q self[1]; and test "$candidate" -ef "$self[1]"
            continue
        end
        echo $candidate
        return 0
    end
    return 1
end

# Load Codex's completion once per shell, registered for __codex_cf_codex.
function __codex_cf_load_codex
    set -q __codex_cf_codex_loaded; and return 0
    set -q __codex_cf_codex_tried; and return 1
    set -g __codex_cf_codex_tried 1
    set -l codex (__codex_cf_find_codex); or return 1
    $codex completion fish 2>/dev/null </dev/null \
        | string replace -r -- '^complete -c codex ' 'complete -c __codex_cf_codex ' \
        | source
    complete -c __codex_cf_codex | string match -q '*'; or return 1
    set -g __codex_cf_codex_loaded 1
end

# Codex's candidates for the same command line (none without Codex).
function __codex_cf_codex
    __codex_cf_load_codex; or return
    set -l tokens (__codex_cf_tokens)
    set -e tokens[1]
    set -l current (commandline -ct)
    set -l line (string join ' ' -- __codex_cf_codex (string escape -- $tokens))
    complete -C "$line $current"
end

complete -c codex-cf -f
complete -c codex-cf -n 'not __codex_cf_own' -a '(__codex_cf_codex)'

complete -c codex-cf -n __codex_cf_first -a setup -d 'Create, update or repair the gateway profile'
complete -c codex-cf -n __codex_cf_first -a token -d 'Store, check and remove the token in the OS keyring'
complete -c codex-cf -n __codex_cf_first -a doctor -d 'Check everything and say how to fix what is wrong'
complete -c codex-cf -n __codex_cf_first -a usage -d 'Requests, tokens, cost and errors of the profile\'s gateway'
complete -c codex-cf -n __codex_cf_first -a completion -d 'Print (or install) the shell completion script'
complete -c codex-cf -n __codex_cf_first -a remove -d 'Remove every trace codex-cf left for a profile'
complete -c codex-cf -n __codex_cf_first -s h -l help -d 'Show help'
complete -c codex-cf -n __codex_cf_first -l version -d "Show codex-cf's version and the Codex it finds"

complete -c codex-cf -n '__codex_cf_in setup' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in setup' -l account-id -x -d 'Cloudflare account ID (32 hex characters)'
complete -c codex-cf -n '__codex_cf_in setup' -l gateway -x -d 'AI Gateway slug'
complete -c codex-cf -n '__codex_cf_in setup' -l model -x -d 'Model, set once'
complete -c codex-cf -n '__codex_cf_in setup' -l reasoning-effort -x -a 'minimal low medium high xhigh' -d 'Reasoning effort, set once'
complete -c codex-cf -n '__codex_cf_in setup' -l base-url -x -d 'A custom endpoint instead of account/gateway'
complete -c codex-cf -n '__codex_cf_in setup' -l auth -x -a 'env command' -d 'How Codex gets the token'
complete -c codex-cf -n '__codex_cf_in setup' -l billing -x -a 'unified byok own-key' -d 'Who pays for the requests'
complete -c codex-cf -n '__codex_cf_in setup' -l authenticated-gateway -d 'The gateway requires cf-aig-authorization'
complete -c codex-cf -n '__codex_cf_in setup' -l open-gateway -d 'The gateway is open'
complete -c codex-cf -n '__codex_cf_in setup' -l access -x -a 'cloudflared service-token off' -d 'Cloudflare Access in front of a custom domain'
complete -c codex-cf -n '__codex_cf_in setup' -l custom-domain -x -d 'The gateway custom domain'
complete -c codex-cf -n '__codex_cf_in setup' -l metadata -d 'Tag requests with launch, project, profile, host'
complete -c codex-cf -n '__codex_cf_in setup' -l no-metadata -d 'Send no request tags'
complete -c codex-cf -n '__codex_cf_in setup' -l token-stdin -d 'Read the Cloudflare token from standard input'
complete -c codex-cf -n '__codex_cf_in setup' -l no-token -d 'Do not ask for or store a token'
complete -c codex-cf -n '__codex_cf_in setup' -s y -l yes -d 'Ask nothing; fail naming what is missing'
complete -c codex-cf -n '__codex_cf_in setup' -l dry-run -d 'Show the change; write nothing'
complete -c codex-cf -n '__codex_cf_in setup' -l offline -d 'Do not check the token and the gateway with Cloudflare'
complete -c codex-cf -n '__codex_cf_in setup' -s h -l help -d 'Show help'

complete -c codex-cf -n __codex_cf_token_first -a set -d 'Save the token'
complete -c codex-cf -n __codex_cf_token_first -a status -d 'Where the token comes from, masked'
complete -c codex-cf -n __codex_cf_token_first -a delete -d 'Remove the token from the keyring'
complete -c codex-cf -n __codex_cf_token_first -a verify -d 'Ask the Cloudflare API whether the token is active'
complete -c codex-cf -n __codex_cf_token_first -a import -d 'Move the token from the environment into the keyring'
complete -c codex-cf -n __codex_cf_token_first -a print -d "Print the token (for Codex's auth command and scripts)"
complete -c codex-cf -n __codex_cf_token_first -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token set' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in token set' -l which -x -a 'cloudflare openai access-id access-secret' -d 'Which secret'
complete -c codex-cf -n '__codex_cf_in token set' -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token status' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in token status' -l which -x -a 'cloudflare openai access-id access-secret' -d 'Which secret'
complete -c codex-cf -n '__codex_cf_in token status' -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token delete' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in token delete' -l which -x -a 'cloudflare openai access-id access-secret' -d 'Which secret'
complete -c codex-cf -n '__codex_cf_in token delete' -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token verify' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in token verify' -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token import' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in token import' -l which -x -a 'cloudflare openai access-id access-secret' -d 'Which secret'
complete -c codex-cf -n '__codex_cf_in token import' -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token print' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in token print' -l which -x -a 'cloudflare openai access-id access-secret' -d 'Which secret'
complete -c codex-cf -n '__codex_cf_in token print' -s h -l help -d 'Show help'
complete -c codex-cf -n '__codex_cf_in token set' -l stdin -d 'Read the token from standard input'

complete -c codex-cf -n '__codex_cf_in doctor' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in doctor' -l json -d 'One JSON document on stdout'
complete -c codex-cf -n '__codex_cf_in doctor' -l offline -d 'Skip the checks that reach Cloudflare'
complete -c codex-cf -n '__codex_cf_in doctor' -l self-test -d 'Run your Codex through codex-cf against a gateway on 127.0.0.1'
complete -c codex-cf -n '__codex_cf_in doctor' -l live -d "Also confirm from the gateway's logs that the last launch's requests arrived"
complete -c codex-cf -n '__codex_cf_in doctor' -s h -l help -d 'Show help'

complete -c codex-cf -n '__codex_cf_in usage' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in usage' -l since -x -d 'Start of the period: 90m, 24h, 7d, 2w, or an ISO date'
complete -c codex-cf -n '__codex_cf_in usage' -l by -x -a 'day model project session' -d 'Group by'
complete -c codex-cf -n '__codex_cf_in usage' -l json -d 'One JSON document on stdout'
complete -c codex-cf -n '__codex_cf_in usage' -s h -l help -d 'Show help'

complete -c codex-cf -n '__codex_cf_in completion' -a 'bash zsh fish powershell' -d Shell
complete -c codex-cf -n '__codex_cf_in completion' -l install -d 'Write it where the shell loads it from'
complete -c codex-cf -n '__codex_cf_in completion' -l alias -x -d 'Also complete this alias of codex-cf'
complete -c codex-cf -n '__codex_cf_in completion' -s h -l help -d 'Show help'

complete -c codex-cf -n '__codex_cf_in remove' -s p -l profile -x -a '(__codex_cf_profiles)' -d 'Profile name'
complete -c codex-cf -n '__codex_cf_in remove' -l all -d 'Every profile codex-cf set up'
complete -c codex-cf -n '__codex_cf_in remove' -l keep-token -d 'Leave the keyring items in place'
complete -c codex-cf -n '__codex_cf_in remove' -s y -l yes -d 'Do not ask'
complete -c codex-cf -n '__codex_cf_in remove' -l dry-run -d 'List what would be removed; remove nothing'
complete -c codex-cf -n '__codex_cf_in remove' -s h -l help -d 'Show help'
