# shellcheck shell=bash
# Shared by the scripts in this directory: --dry-run, and running one command at a time, shown first.
#
# DRY_RUN=1: every command that changes something is printed ("+ az ...") and not run; commands that only
# read are printed too, and their answer is a placeholder in angle brackets.

DRY_RUN=${DRY_RUN:-0}
# Commands are shown on the script's standard output, also from inside $(...) (file descriptor 3).
exec 3>&1

say() { printf '%s\n' "$*" >&3; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The command as one shell-quoted line, the way it can be pasted.
show() {
    local out="+" arg
    for arg in "$@"; do
        if [[ $arg =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then out+=" $arg"
        elif [[ $arg != *"'"* ]]; then out+=" '$arg'"
        elif [[ $arg != *[\"\$\`\\]* ]]; then out+=" \"$arg\""
        else out+=" $(printf '%q' "$arg")"; fi
    done
    printf '%s\n' "$out" >&3
}

# A command that changes something: printed, then run unless --dry-run.
run() {
    show "$@"
    if [[ $DRY_RUN == 1 ]]; then return 0; fi
    "$@"
}

# A command whose output the script uses (a lookup, or a creation that answers an id): printed, then run; in a dry run its answer is
# PLACEHOLDER (the first argument; the rest is the command).
capture() {
    local placeholder=$1; shift
    show "$@"
    if [[ $DRY_RUN == 1 ]]; then printf '%s\n' "$placeholder"; return 0; fi
    "$@"
}

need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (or not on PATH); it is needed here"
    done
}
