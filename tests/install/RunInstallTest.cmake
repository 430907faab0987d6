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

# The installed tools start from the fresh prefix (their RUNPATH finds
# libtrueno.so in ../lib) and do their jobs: trueno-cache lists an empty
# cache folder, trueno-opt round-trips a trueno op.
file(MAKE_DIRECTORY ${WORK_DIR}/empty-cache)
run_step(trueno-cache ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH
         ${WORK_DIR}/prefix/bin/trueno-cache --dir ${WORK_DIR}/empty-cache --json list)
if(NOT step_output MATCHES "^\\[\\]")
  message(FATAL_ERROR "installed trueno-cache listed:\n${step_output}")
endif()
file(WRITE ${WORK_DIR}/neg.mlir
     "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
     "  %0 = trueno.neg %x : tensor<4xf32>\n"
     "  %1 = trueno.neg %0 : tensor<4xf32>\n"
     "  return %1 : tensor<4xf32>\n}\n")
run_step(trueno-opt ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH
         ${WORK_DIR}/prefix/bin/trueno-opt ${WORK_DIR}/neg.mlir -canonicalize)
if(step_output MATCHES "trueno.neg" OR NOT step_output MATCHES "return %arg0")
  message(FATAL_ERROR "installed trueno-opt printed:\n${step_output}")
endif()
message(STATUS "installed trueno-cache and trueno-opt ran")
