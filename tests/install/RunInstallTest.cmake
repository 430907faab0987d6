# Installs the build tree into a scratch prefix, then configures, builds and
# runs a small application that finds Trueno with find_package(Trueno), as
# an outside user would. Run by ctest as `cmake -P`.
file(REMOVE_RECURSE ${WORK_DIR})

function(run_step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step(install ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix)
run_step(configure ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/app
         -B ${WORK_DIR}/build -G Ninja -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run_step(build ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step(run ${WORK_DIR}/build/trueno-outside-app)
if(NOT step_output MATCHES "sum of arange\\(10\\) = 45")
  message(FATAL_ERROR "unexpected output from the outside app:\n${step_output}")
endif()
message(STATUS "outside app printed:\n${step_output}")
