# cmake/man.cmake - run by the build (target urbac_docs) after urbac is linked:
# writes the manual pages and the shell completion scripts from the command's own
# tables (`urbac help --man [COMMAND]`, `urbac completion bash|zsh`), so they are
# what `--help` says. The commands are the ones `urbac --help` lists.
#   cmake -DURBAC=path/to/urbac -DOUT=build/share -P cmake/man.cmake
# Writes OUT/man/man1/urbac.1, OUT/man/man1/urbac-COMMAND.1 for each command,
# OUT/bash-completion/completions/urbac and OUT/zsh/vendor-completions/_urbac.
#
# Depends on: the urbac binary.
function(urbac_run file)
  execute_process(COMMAND ${URBAC} ${ARGN} OUTPUT_FILE ${file} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "urbac ${ARGN}: exit ${rc}: ${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${OUT}/man)
file(MAKE_DIRECTORY ${OUT}/man/man1 ${OUT}/bash-completion/completions ${OUT}/zsh/vendor-completions)
execute_process(COMMAND ${URBAC} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "urbac --help: exit ${rc}")
endif()
string(REGEX MATCH "\ncommands:\n(  [^\n]+\n)+" listing "${help}")
string(REGEX MATCHALL "\n  [a-z][a-z-]*" names "${listing}")
list(LENGTH names count)
if(count LESS 2)
  message(FATAL_ERROR "urbac --help lists no commands:\n${help}")
endif()
urbac_run(${OUT}/man/man1/urbac.1 help --man)
foreach(name ${names})
  string(STRIP "${name}" name)
  urbac_run(${OUT}/man/man1/urbac-${name}.1 help --man ${name})
endforeach()
urbac_run(${OUT}/bash-completion/completions/urbac completion bash)
urbac_run(${OUT}/zsh/vendor-completions/_urbac completion zsh)
