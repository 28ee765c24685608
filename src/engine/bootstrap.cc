#include "engine/bootstrap.h"

namespace cuttle::engine {

// Helpers write with printf, never echo: echo takes a value such as "-n" or "-e" for an option.
// Every helper reads its arguments as ${n-}, so a script running under `set -u` can call it with
// fewer arguments.
const std::string& BashBootstrap() {
  static const std::string kBootstrap =
      R"BASH(# Octopus-compatible helpers for bash scripts (Cuttle)
declare -A octopus_parameters=()
while IFS= read -r -d '' __octopus_name && IFS= read -r -d '' __octopus_value; do
  octopus_parameters["$__octopus_name"]="$__octopus_value"
done <&3
exec 3<&-
unset __octopus_name __octopus_value
encode_servicemessagevalue() { printf '%s' "${1-}" | base64 -w0; }
decode_servicemessagevalue() { printf '%s' "${1-}" | base64 -d; }
__mask_sensitive_value() {
  # On both streams: a line the script then writes to stderr must not reach the log first.
  printf "##octopus[mask value='%s']\n" "$(encode_servicemessagevalue "${1-}")"
  printf "##octopus[mask value='%s']\n" "$(encode_servicemessagevalue "${1-}")" >&2
}
get_octopusvariable() {
  if [ -z "${1-}" ]; then echo; return 0; fi
  printf '%s\n' "${octopus_parameters[$1]-}"
}
set_octopusvariable() {
  local message="##octopus[setVariable"
  if [ -n "${1-}" ]; then message+=" name='$(encode_servicemessagevalue "$1")'"; fi
  if [ -n "${2-}" ]; then message+=" value='$(encode_servicemessagevalue "$2")'"; fi
  if [ "${3-}" = "-sensitive" ]; then message+=" sensitive='$(encode_servicemessagevalue True)'"; fi
  printf '%s]\n' "$message"
}
new_octopusartifact() {
  local path="${1-}"
  local name="${2:-$(basename "$path")}"
  if [ -z "$path" ] || [ ! -e "$path" ]; then
    echo "There is no file at '$path' to collect as an artifact." >&2
    return 1
  fi
  local full length
  full=$(realpath "$path")
  length=$(stat -c %s "$full")
  printf "##octopus[createArtifact path='%s' name='%s' length='%s']\n" \
    "$(encode_servicemessagevalue "$full")" "$(encode_servicemessagevalue "$name")" \
    "$(encode_servicemessagevalue "$length")"
}
fail_step() {
  if [ -n "${1-}" ]; then
    printf "##octopus[resultMessage message='%s']\n" "$(encode_servicemessagevalue "$1")"
  fi
  exit 1
}
update_progress() {
  printf "##octopus[progress percentage='%s' message='%s']\n" \
    "$(encode_servicemessagevalue "${1-}")" "$(encode_servicemessagevalue "${2-}")"
}
__octopus_write_at() { printf '##octopus[stdout-%s]\n%s\n##octopus[stdout-default]\n' "$1" "${2-}"; }
write_verbose() { __octopus_write_at verbose "${1-}"; }
write_highlight() { __octopus_write_at highlight "${1-}"; }
write_wait() { __octopus_write_at wait "${1-}"; }
write_warning() { __octopus_write_at warning "${1-}"; }
write_error() { __octopus_write_at error "${1-}"; }
source ./script.sh
)BASH";
  return kBootstrap;
}

// The script runs through runpy with the helpers as its globals, as Octopus's Python bootstrap
// runs it; sys.path[0] is the working folder, so modules written next to the script import.
const std::string& PythonBootstrap() {
  static const std::string kBootstrap =
      R"PY(# Octopus-compatible helpers for python scripts (Cuttle)
import base64 as _base64
import os as _os
import runpy as _runpy
import sys as _sys


def _load_variables(fd):
    try:
        with _os.fdopen(fd, 'rb') as f:
            data = f.read()
    except OSError:
        return {}
    parts = data.split(b'\0')
    variables = {}
    for i in range(0, len(parts) - 1, 2):
        name = parts[i].decode('utf-8', 'replace')
        if name:
            variables[name] = parts[i + 1].decode('utf-8', 'replace')
    return variables


octopusvariables = _load_variables(3)


def encode(value):
    return _base64.b64encode(str(value).encode('utf-8')).decode('ascii')


def decode(value):
    return _base64.b64decode(value).decode('utf-8')


def get_octopusvariable(key):
    return octopusvariables.get(key, '')


def set_octopusvariable(name, value, sensitive=False):
    octopusvariables[name] = value
    message = "##octopus[setVariable name='{0}' value='{1}'".format(encode(name), encode(value))
    if sensitive:
        message += " sensitive='{0}'".format(encode('True'))
    print(message + ']')


def createartifact(path, name=None):
    if name is None:
        name = _os.path.basename(path)
    length = str(_os.stat(path).st_size) if _os.path.isfile(path) else '0'
    print("##octopus[createArtifact path='{0}' name='{1}' length='{2}']".format(
        encode(_os.path.realpath(path)), encode(name), encode(length)))


def updateprogress(progress, message=None):
    print("##octopus[progress percentage='{0}' message='{1}']".format(
        encode(progress), encode('' if message is None else message)))


def failstep(message=None):
    if message is not None:
        print("##octopus[resultMessage message='{0}']".format(encode(message)))
    _sys.exit(-1)


def _print_at(level, message):
    print('##octopus[stdout-{0}]'.format(level))
    print(message)
    print('##octopus[stdout-default]')


def printverbose(message):
    _print_at('verbose', message)


def printhighlight(message):
    _print_at('highlight', message)


def printwait(message):
    _print_at('wait', message)


def printwarning(message):
    _print_at('warning', message)


_helpers = {name: globals()[name] for name in (
    'octopusvariables', 'encode', 'decode', 'get_octopusvariable', 'set_octopusvariable',
    'createartifact', 'updateprogress', 'failstep', 'printverbose', 'printhighlight',
    'printwait', 'printwarning')}
_sys.argv = ['script.py']
_runpy.run_path('script.py', init_globals=_helpers, run_name='__main__')
)PY";
  return kBootstrap;
}

std::string EncodeVariablesFile(const VariableDictionary& variables) {
  std::string out;
  auto append_without_nul = [&](std::string_view s) {
    for (char c : s) {
      if (c != '\0') out += c;
    }
    out += '\0';
  };
  for (const auto& [_, v] : variables) {
    if (v.name.find_first_not_of('\0') == std::string::npos) continue;
    append_without_nul(v.name);
    append_without_nul(v.value);
  }
  return out;
}

}  // namespace cuttle::engine
