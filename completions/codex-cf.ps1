# PowerShell completion for codex-cf
# codex-cf-completion-script: written by codex-cf; `codex-cf remove` deletes installed copies.
#
# Load:   codex-cf completion powershell | Out-String | Invoke-Expression
#         or codex-cf completion powershell --install   (loaded from your $PROFILE)
# Alias:  for `Set-Alias codex codex-cf` load
#         codex-cf completion powershell --alias codex | Out-String | Invoke-Expression
#
# codex-cf's own commands are completed here. Everything else goes to Codex's own
# completer (`codex completion powershell`), loaded once per session on first use
# and kept as a script block instead of being registered for `codex`; after that
# TAB runs PowerShell code only.

# Words offered after `codex-cf PATH` ('' is the first word).
$global:CodexCfCompletionWords = @{
    ''             = @('setup', 'token', 'doctor', 'usage', 'completion', 'remove', '--help', '-h', '--version')
    'setup'        = @('--profile', '-p', '--account-id', '--gateway', '--model', '--reasoning-effort', '--base-url', '--auth', '--billing', '--authenticated-gateway', '--open-gateway', '--access', '--custom-domain', '--metadata', '--no-metadata', '--token-stdin', '--no-token', '--yes', '-y', '--dry-run', '--offline', '--help', '-h')
    'token'        = @('set', 'status', 'delete', 'verify', 'import', 'print', '--help', '-h')
    'token set'    = @('--profile', '-p', '--which', '--stdin', '--help', '-h')
    'token status' = @('--profile', '-p', '--which', '--help', '-h')
    'token delete' = @('--profile', '-p', '--which', '--help', '-h')
    'token verify' = @('--profile', '-p', '--help', '-h')
    'token import' = @('--profile', '-p', '--which', '--help', '-h')
    'token print'  = @('--profile', '-p', '--which', '--help', '-h')
    'doctor'       = @('--profile', '-p', '--json', '--offline', '--self-test', '--live', '--help', '-h')
    'usage'        = @('--profile', '-p', '--since', '--by', '--json', '--help', '-h')
    'completion'   = @('bash', 'zsh', 'fish', 'powershell', '--install', '--alias', '--help', '-h')
    'remove'       = @('--profile', '-p', '--all', '--keep-token', '--yes', '-y', '--dry-run', '--help', '-h')
}

# Values offered after an option of an own command ('profiles': the profile names).
$global:CodexCfCompletionValues = @{
    '--profile'          = 'profiles'
    '-p'                 = 'profiles'
    '--reasoning-effort' = @('minimal', 'low', 'medium', 'high', 'xhigh')
    '--auth'             = @('env', 'command')
    '--billing'          = @('unified', 'byok', 'own-key')
    '--access'           = @('cloudflared', 'service-token', 'off')
    '--which'            = @('cloudflare', 'openai', 'access-id', 'access-secret')
    '--by'               = @('day', 'model', 'project', 'session')
    '--account-id'       = @()
    '--gateway'          = @()
    '--model'            = @()
    '--base-url'         = @()
    '--custom-domain'    = @()
    '--alias'            = @()
    '--since'            = @()
}

# Profile names: the <name>.config.toml files in Codex's home.
function global:Get-CodexCfProfileName {
    $codexHome = if ($env:CODEX_HOME) { $env:CODEX_HOME } else { Join-Path $HOME '.codex' }
    Get-ChildItem -Path $codexHome -Filter '*.config.toml' -File -ErrorAction SilentlyContinue |
        ForEach-Object { $_.Name.Substring(0, $_.Name.Length - '.config.toml'.Length) }
}

# The real Codex, as codex-cf finds it: $env:CODEX_CF_CODEX, else the first
# `codex` on PATH that is not codex-cf itself.
function global:Find-CodexCfCodex {
    if ($env:CODEX_CF_CODEX) { return $env:CODEX_CF_CODEX }
    $self = Get-Command -Name 'codex-cf' -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    foreach ($candidate in Get-Command -Name 'codex' -CommandType Application -All -ErrorAction SilentlyContinue) {
        if ($self -and $candidate.Source -eq $self.Source) { continue }
        return $candidate.Source
    }
    return $null
}

# Codex's completer script block, loaded once per session. Codex's script calls
# Register-ArgumentCompleter; a function of that name, which PowerShell finds
# before the cmdlet, keeps the script block instead of registering it.
function global:Get-CodexCfCodexCompleter {
    if ($global:CodexCfCodexTried) { return $global:CodexCfCodexCompleter }
    $global:CodexCfCodexTried = $true
    $codex = Find-CodexCfCodex
    if (-not $codex) { return $null }
    try {
        $text = & $codex completion powershell 2>$null | Out-String
        function Register-ArgumentCompleter {
            param([switch]$Native, [string[]]$CommandName, [scriptblock]$ScriptBlock)
            $global:CodexCfCodexCompleter = $ScriptBlock
        }
        . ([scriptblock]::Create($text))
    } catch {
        $global:CodexCfCodexCompleter = $null
    }
    return $global:CodexCfCodexCompleter
}

$global:CodexCfCompleter = {
    param($wordToComplete, $commandAst, $cursorPosition)

    # The words before the one being completed, the command name first.
    $words = @(foreach ($element in $commandAst.CommandElements) {
        $end = $element.Extent.EndOffset
        if ($end -lt $cursorPosition -or ($end -eq $cursorPosition -and -not $wordToComplete)) {
            $element.Extent.Text
        }
    })
    $own = @('setup', 'token', 'doctor', 'usage', 'completion', 'remove')

    if ($words.Count -ge 2 -and $own -contains $words[1]) {
        $key = $words[1]
        if ($key -eq 'token' -and $words.Count -ge 3) { $key = "token $($words[2])" }
        $previous = $words[-1]
        if ($words.Count -ge 3 -and $global:CodexCfCompletionValues.ContainsKey($previous)) {
            $candidates = $global:CodexCfCompletionValues[$previous]
            if ($candidates -is [string]) { $candidates = @(Get-CodexCfProfileName) }
            $type = [System.Management.Automation.CompletionResultType]::ParameterValue
        } else {
            $candidates = $global:CodexCfCompletionWords[$key]
            $type = [System.Management.Automation.CompletionResultType]::ParameterName
        }
        foreach ($candidate in $candidates) {
            if ($candidate -like "$wordToComplete*") {
                [System.Management.Automation.CompletionResult]::new($candidate, $candidate, $type, $candidate)
            }
        }
        return
    }

    $seen = @{}
    if ($words.Count -eq 1) {
        foreach ($candidate in $global:CodexCfCompletionWords['']) {
            if ($candidate -like "$wordToComplete*") {
                $seen[$candidate] = $true
                [System.Management.Automation.CompletionResult]::new(
                    $candidate, $candidate,
                    [System.Management.Automation.CompletionResultType]::ParameterValue, $candidate)
            }
        }
    }
    # Codex's completer reads the words after the command name, whatever it is.
    $codexCompleter = Get-CodexCfCodexCompleter
    if ($codexCompleter) {
        foreach ($result in & $codexCompleter $wordToComplete $commandAst $cursorPosition) {
            if (-not $seen.ContainsKey($result.CompletionText)) { $result }
        }
    }
}

Register-ArgumentCompleter -Native -CommandName 'codex-cf' -ScriptBlock $global:CodexCfCompleter
