# cmake -DOUTPUT=<header> -DFILES=<a|b|...> -P CompilerFingerprint.cmake
#
# Writes a header defining TRUENO_COMPILER_FINGERPRINT: a SHA-256 over the
# sources that decide what machine code a kernel becomes (the dialect, the
# passes, codegen, the runtime entry points kernels call). It is part of the
# disk kernel cache's key, so a changed compiler never loads code an older
# one produced (a changed entry-point signature would crash). The header is
# rewritten only when the fingerprint changes.
string(REPLACE "|" ";" FILES "${FILES}")
set(combined "")
foreach(file IN LISTS FILES)
  file(SHA256 "${file}" hash)
  string(APPEND combined "${file}:${hash}\n")
endforeach()
string(SHA256 fingerprint "${combined}")
set(text "#define TRUENO_COMPILER_FINGERPRINT \"${fingerprint}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${text}")
