# bash completion for codex-cf                              -*- shell-script -*-
# codex-cf-completion-script: written by codex-cf; `codex-cf remove` deletes installed copies.
#
# Load:   source <(codex-cf completion bash)   or   codex-cf completion bash --install
# Alias:  bash does not complete through aliases; for `alias codex=codex-cf` load
#         source <(codex-cf completion bash --alias codex)
#
# codex-cf's own commands are completed here. Everything else goes to Codex's own
# completion (`codex completion bash`, function _codex), loaded once per shell on
# first use; after that TAB runs shell functions only.

# Words offered after `codex-cf PATH` ('' is the first word).
_codex_cf_words() {
    case $1 in
    '') REPLY='setup token doctor usage completion remove --help -h --version' ;;
    setup) REPLY='--profile -p --account-id --gateway --model --reasoning-effort --base-url --auth --billing --authenticated-gateway --open-gateway --access --custom-domain --metadata --no-metadata --token-stdin --no-token --yes -y --dry-run --offline --help -h' ;;
    token) REPLY='set status delete verify import print --help -h' ;;
    'token set') REPLY='--profile -p --which --stdin --help -h' ;;
    'token status' | 'token delete' | 'token import' | 'token print') REPLY='--profile -p --which --help -h' ;;
    'token verify') REPLY='--profile -p --help -h' ;;
    doctor) REPLY='--profile -p --json --offline --self-test --live --help -h' ;;
    usage) REPLY='--profile -p --since --by --json --help -h' ;;
    completion) REPLY='bash zsh fish powershell --install --alias --help -h' ;;
    remove) REPLY='--profile -p --all --keep-token --yes -y --dry-run --help -h' ;;
    *) REPLY='' ;;
    esac
}

# Values offered after an option of an own command; fails for options that take none.
_codex_cf_values() {
    case $1 in
    --profile | -p) _codex_cf_profiles ;;
    --reasoning-effort) REPLY='minimal low medium high xhigh' ;;
    --auth) REPLY='env command' ;;
    --billing) REPLY='unified byok own-key' ;;
    --access) REPLY='cloudflared service-token off' ;;
    --which) REPLY='cloudflare openai access-id access-secret' ;;
    --by) REPLY='day model project session' ;;
    --account-id | --gateway | --model | --base-url | --custom-domain | --alias | --since) REPLY='' ;;
    *) return 1 ;;
    esac
}

# Profile names: the <name>.config.toml files in Codex's home.
_codex_cf_profiles() {
    local file
    REPLY=''
    for file in "${CODEX_HOME:-$HOME/.codex}"/*.config.toml; do
        [[ -e $file ]] || continue
        file=${file##*/}
        REPLY+=" ${file%.config.toml}"
    done
}

# The real Codex, as codex-cf finds it: $CODEX_CF_CODEX, else the first `codex`
# on PATH that is not codex-cf itself (an alias or symlink named codex).
_codex_cf_find_codex() {
    if [[ -n ${CODEX_CF_CODEX-} ]]; then
        REPLY=$CODEX_CF_CODEX
        return 0
    fi
    local self candidate
    self=$(type -P codex-cf)
    while IFS= read -r candidate; do
        [[ -n $self && $candidate -ef $self ]] && continue
        REPLY=$candidate
        return 0
    done < <(type -aP codex 2>/dev/null)
    return 1
}

# Define Codex's _codex once per shell. Its script also registers itself for
# `codex`; that registration is put back as it was, so an alias keeps ours.
_codex_cf_load_codex() {
    declare -F _codex >/dev/null && return 0
    [[ -n ${_codex_cf_codex_tried-} ]] && return 1
    _codex_cf_codex_tried=1
    local REPLY saved
    _codex_cf_find_codex || return 1
    saved=$(complete -p codex 2>/dev/null)
    eval "$("$REPLY" completion bash 2>/dev/null </dev/null)"
    complete -r codex 2>/dev/null
    [[ -n $saved ]] && eval "$saved"
    declare -F _codex >/dev/null
}

_codex_cf() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} REPLY word known
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        local -a own codex_words
        _codex_cf_words ''
        own=($(compgen -W "$REPLY" -- "$cur"))
        if _codex_cf_load_codex; then
            _codex "$@"
            codex_words=("${COMPREPLY[@]}")
        fi
        COMPREPLY=("${own[@]}")
        for word in "${codex_words[@]}"; do
            for known in "${own[@]}"; do
                [[ $word == "$known" ]] && continue 2
            done
            COMPREPLY+=("$word")
        done
        return 0
    fi
    case ${COMP_WORDS[1]} in
    setup | token | doctor | usage | completion | remove) ;;
    *)
        _codex_cf_load_codex && _codex "$@"
        return 0
        ;;
    esac
    # `--opt=value`: bash splits at '=' (COMP_WORDBREAKS).
    if [[ $cur == = ]]; then
        cur=''
    elif [[ $prev == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    if _codex_cf_values "$prev"; then
        [[ -z $REPLY ]] && compopt +o default +o bashdefault 2>/dev/null
        COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
        return 0
    fi
    word=${COMP_WORDS[1]}
    if [[ $word == token ]] && ((COMP_CWORD > 2)); then
        word="token ${COMP_WORDS[2]}"
    fi
    _codex_cf_words "$word"
    COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
}

# Complete codex-cf, and each alias given as an argument.
_codex_cf_register() {
    if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))); then
        complete -F _codex_cf -o nosort -o bashdefault -o default "$@"
    else
        complete -F _codex_cf -o bashdefault -o default "$@"
    fi
}

_codex_cf_register codex-cf
