// Every verifier error of the trueno dialect, with its message.
// RUN: trueno-opt %s -split-input-file -verify-diagnostics

func.func @unary_type_mismatch(%x: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "trueno.exp"(%x) : (tensor<4xf32>) -> tensor<4xf64>
  return
}

// -----

func.func @float_op_on_integers(%x: tensor<4xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = trueno.exp %x : tensor<4xi32>
  return
}

// -----

func.func @unsupported_element_type(%x: tensor<4xi7>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = trueno.neg %x : tensor<4xi7>
  return
}

// -----

func.func @unranked(%x: tensor<*xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = "trueno.neg"(%x) : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @binary_shape_mismatch(%a: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "trueno.add"(%a, %b) : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @bitwise_on_floats(%a: tensor<4xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = trueno.bitwise_and %a, %a : tensor<4xf32>
  return
}

// -----

func.func @logical_on_ints(%a: tensor<4xi8>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = trueno.logical_or %a, %a : tensor<4xi8>
  return
}

// -----

func.func @compare_type_mismatch(%a: tensor<4xf32>, %b: tensor<4xf64>) {
  // expected-error @+1 {{failed to verify that all of {lhs, rhs} have same type}}
  %0 = "trueno.lt"(%a, %b) : (tensor<4xf32>, tensor<4xf64>) -> tensor<4xi1>
  return
}

// -----

func.func @compare_result_not_bool(%a: tensor<4xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = "trueno.eq"(%a, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_result_shape(%a: tensor<4xf32>) {
  // expected-error @+1 {{failed to verify that all of {lhs, result} have same shape}}
  %0 = "trueno.eq"(%a, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<5xi1>
  return
}

// -----

func.func @predicate_shape(%a: tensor<4xf32>) {
  // expected-error @+1 {{failed to verify that all of {input, result} have same shape}}
  %0 = "trueno.isnan"(%a) : (tensor<4xf32>) -> tensor<2xi1>
  return
}

// -----

func.func @where_condition_shape(%m: tensor<3xi1>, %a: tensor<4xf32>) {
  // expected-error @+1 {{failed to verify that all of {condition, lhs} have same shape}}
  %0 = "trueno.where"(%m, %a, %a) : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @where_branch_types(%m: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{failed to verify that all of {lhs, rhs, result} have same type}}
  %0 = "trueno.where"(%m, %a, %b) : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @where_condition_not_bool(%m: tensor<4xi8>, %a: tensor<4xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = "trueno.where"(%m, %a, %a) : (tensor<4xi8>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @clamp_types(%a: tensor<4xf32>, %b: tensor<4xf64>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "trueno.clamp"(%a, %b, %a) : (tensor<4xf32>, tensor<4xf64>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @cast_changes_shape(%a: tensor<4xf32>) {
  // expected-error @+1 {{'trueno.cast' op all non-scalar operands/results must have the same shape and base type}}
  %0 = trueno.cast %a : tensor<4xf32> to tensor<2x2xi8>
  return
}

// -----

func.func @expand_element_type(%a: tensor<4xf32>) {
  // expected-error @+1 {{'trueno.expand' op changes the element type from 'f32' to 'f64'; use trueno.cast}}
  %0 = trueno.expand %a : tensor<4xf32> to tensor<2x4xf64>
  return
}

// -----

func.func @expand_lower_rank(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'trueno.expand' op cannot broadcast rank 2 to the lower rank 1}}
  %0 = trueno.expand %a : tensor<2x4xf32> to tensor<4xf32>
  return
}

// -----

func.func @expand_incompatible(%a: tensor<3x1xf32>) {
  // expected-error @+1 {{'trueno.expand' op cannot broadcast dimension 0 of size 3 to size 4 (sizes must match or be 1)}}
  %0 = trueno.expand %a : tensor<3x1xf32> to tensor<4x5xf32>
  return
}

// -----

func.func @constant_type_mismatch() {
  // expected-error @+1 {{failed to verify that all of {value, result} have same type}}
  %0 = "trueno.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf64>
  return
}

// -----

func.func @reduce_dim_out_of_range(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{reduces dimension 2, out of range for rank 2}}
  %0 = trueno.reduce_sum %x dims = [2] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_dim_negative(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{reduces dimension -1, out of range for rank 2}}
  %0 = trueno.reduce_sum %x dims = [-1] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_dims_unsorted(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dims must be strictly increasing}}
  %0 = trueno.reduce_sum %x dims = [1, 0] : tensor<4x8xf32> -> tensor<f32>
  return
}

// -----

func.func @reduce_result_rank(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result rank 1 is neither 2 (kept dims) nor 0 (dropped dims)}}
  %0 = trueno.reduce_max %x dims = [0, 1] : tensor<4x8xf32> -> tensor<1xf32>
  return
}

// -----

func.func @reduce_result_shape(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result dimension 0 has size 4, expected 8}}
  %0 = trueno.reduce_min %x dims = [0] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_element_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{failed to verify that all of {input, result} have same element type}}
  %0 = "trueno.reduce_sum"(%x) {dims = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4xf64>
  return
}

// -----

func.func @reduce_sum_bool(%x: tensor<4xi1>) {
  // expected-error @+1 {{operand #0 must be ranked tensor}}
  %0 = trueno.reduce_sum %x dims = [0] : tensor<4xi1> -> tensor<i1>
  return
}

// -----

func.func @matmul_vector(%a: tensor<8xf32>, %b: tensor<8x3xf32>) {
  // expected-error @+1 {{needs operands and result of one rank, at least 2}}
  %0 = trueno.matmul %a, %b : tensor<8xf32>, tensor<8x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @matmul_rhs_rank(%a: tensor<4x8xf32>, %b: tensor<2x8x3xf32>) {
  // expected-error @+1 {{needs operands and result of one rank, at least 2; got 'tensor<4x8xf32>', 'tensor<2x8x3xf32>' and 'tensor<4x3xf32>'}}
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<2x8x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @matmul_result_rank(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>) {
  // expected-error @+1 {{needs operands and result of one rank, at least 2}}
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<1x4x3xf32>
  return
}

// -----

func.func @matmul_inner(%a: tensor<4x8xf32>, %b: tensor<7x3xf32>) {
  // expected-error @+1 {{contracts 8 columns with 7 rows}}
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<7x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x3xf32>) {
  // expected-error @+1 {{batch dimension 0 differs: 2, 3 and 2}}
  %0 = trueno.matmul %a, %b : tensor<2x4x8xf32>, tensor<3x8x3xf32> -> tensor<2x4x3xf32>
  return
}

// -----

func.func @matmul_result_batch(%a: tensor<2x4x8xf32>, %b: tensor<2x8x3xf32>) {
  // expected-error @+1 {{batch dimension 0 differs: 2, 2 and 3}}
  %0 = trueno.matmul %a, %b : tensor<2x4x8xf32>, tensor<2x8x3xf32> -> tensor<3x4x3xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>) {
  // expected-error @+1 {{result must end in 4x3}}
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @matmul_result_columns(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>) {
  // expected-error @+1 {{result must end in 4x3}}
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<4x5xf32>
  return
}

// -----

func.func @matmul_types(%a: tensor<4x8xf32>, %b: tensor<8x3xf64>) {
  // expected-error @+1 {{failed to verify that all of {lhs, rhs, result} have same element type}}
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<8x3xf64> -> tensor<4x3xf32>
  return
}

// -----

func.func @matmul_bool(%a: tensor<4x8xi1>, %b: tensor<8x3xi1>) {
  // expected-error @+1 {{operand #0 must be ranked tensor}}
  %0 = trueno.matmul %a, %b : tensor<4x8xi1>, tensor<8x3xi1> -> tensor<4x3xi1>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{groups = 2 must divide the input's 3 and the filter's 4 channels}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 2 : tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs rank-4 input, filter and result (NCHW, FCHW)}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_filter_rank(%x: tensor<1x4x8x8xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+1 {{needs rank-4 input, filter and result (NCHW, FCHW)}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_result_rank(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs rank-4 input, filter and result (NCHW, FCHW)}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<4x6x6xf32>
  return
}

// -----

func.func @conv_stride_count(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs two strides, paddings and dilations}}
  %0 = trueno.conv2d %x, %w stride = [1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_padding_count(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs two strides, paddings and dilations}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0, 0] dilation = [1, 1] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_dilation_count(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs two strides, paddings and dilations}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_dilation(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs strides and dilations >= 1 and paddings >= 0}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 0] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{needs strides and dilations >= 1 and paddings >= 0}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, -1] dilation = [1, 1] groups = 1 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_zero_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{groups = 0 must divide the input's 4 and the filter's 4 channels}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 0 : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_groups_filter(%x: tensor<1x4x8x8xf32>, %w: tensor<3x2x3x3xf32>) {
  // expected-error @+1 {{groups = 2 must divide the input's 4 and the filter's 3 channels}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 2 : tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32> -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{filter has 2 channels per group, the input 3}}
  %0 = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{result must have shape 1x4x3x3}}
  %0 = trueno.conv2d %x, %w stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{needs strides and dilations >= 1 and paddings >= 0}}
  %0 = trueno.conv2d %x, %w stride = [0, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @argmax_empty(%x: tensor<4x0xf32>) {
  // expected-error @+1 {{reduces an empty dimension}}
  %0 = trueno.argmax %x dim = 1 : tensor<4x0xf32> -> tensor<4xi64>
  return
}

// -----

func.func @argmax_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dimension 2 is out of range for rank 2}}
  %0 = trueno.argmax %x dim = 2 : tensor<4x8xf32> -> tensor<4xi64>
  return
}

// -----

func.func @argmax_negative_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dimension -1 is out of range for rank 2}}
  %0 = trueno.argmin %x dim = -1 : tensor<4x8xf32> -> tensor<4xi64>
  return
}

// -----

func.func @gather_rank(%x: tensor<4x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{needs an index of the input's rank 2, got rank 1}}
  %0 = trueno.gather %x, %i dim = 0 : tensor<4x8xf32>, tensor<3xi64> -> tensor<3xf32>
  return
}

// -----

func.func @gather_dim(%x: tensor<4x8xf32>, %i: tensor<3x8xi64>) {
  // expected-error @+1 {{gathers along dimension 2, out of range for rank 2}}
  %0 = trueno.gather %x, %i dim = 2 : tensor<4x8xf32>, tensor<3x8xi64> -> tensor<3x8xf32>
  return
}

// -----

func.func @gather_negative_dim(%x: tensor<4x8xf32>, %i: tensor<3x8xi64>) {
  // expected-error @+1 {{gathers along dimension -1, out of range for rank 2}}
  %0 = trueno.gather %x, %i dim = -1 : tensor<4x8xf32>, tensor<3x8xi64> -> tensor<3x8xf32>
  return
}

// -----

// Gathering nothing from an empty dimension is fine; gathering something
// is not.
func.func @gather_from_empty(%x: tensor<0x8xf32>, %i: tensor<3x8xi64>, %none: tensor<0x8xi64>) {
  %n = trueno.gather %x, %none dim = 0 : tensor<0x8xf32>, tensor<0x8xi64> -> tensor<0x8xf32>
  // expected-error @+1 {{gathers from an empty dimension 0}}
  %0 = trueno.gather %x, %i dim = 0 : tensor<0x8xf32>, tensor<3x8xi64> -> tensor<3x8xf32>
  return
}

// -----

func.func @gather_larger(%x: tensor<4x8xf32>, %i: tensor<3x9xi64>) {
  // expected-error @+1 {{result dimension 1 has size 9, more than the input's 8}}
  %0 = trueno.gather %x, %i dim = 0 : tensor<4x8xf32>, tensor<3x9xi64> -> tensor<3x9xf32>
  return
}

// -----

func.func @gather_shape(%x: tensor<4x8xf32>, %i: tensor<3x8xi64>) {
  // expected-error @+1 {{all of {index, result} have same shape}}
  %0 = trueno.gather %x, %i dim = 0 : tensor<4x8xf32>, tensor<3x8xi64> -> tensor<2x8xf32>
  return
}

// -----

func.func @transpose_not_a_permutation(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{permutation is not a permutation of 0..1}}
  %0 = trueno.transpose %x permutation = [1, 1] : tensor<3x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @transpose_short_permutation(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{needs a permutation of 2 dimensions and a result of that rank}}
  %0 = trueno.transpose %x permutation = [0] : tensor<3x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @transpose_result_rank(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{needs a permutation of 2 dimensions and a result of that rank}}
  %0 = trueno.transpose %x permutation = [1, 0] : tensor<3x4xf32> -> tensor<12xf32>
  return
}

// -----

func.func @transpose_negative(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{permutation is not a permutation of 0..1}}
  %0 = trueno.transpose %x permutation = [-1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @transpose_past_rank(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{permutation is not a permutation of 0..1}}
  %0 = trueno.transpose %x permutation = [0, 2] : tensor<3x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @transpose_wrong_shape(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{result dimension 0 has size 3, expected 4 (input dimension 1)}}
  %0 = trueno.transpose %x permutation = [1, 0] : tensor<3x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{cannot reshape 12 elements into 10}}
  %0 = trueno.reshape %x : tensor<3x4xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @slice_out_of_range(%x: tensor<10xf32>) {
  // expected-error @+1 {{dimension 0 reads positions 3 to 12, outside 0..9}}
  %0 = trueno.slice %x offsets = [3] steps = [3] : tensor<10xf32> -> tensor<4xf32>
  return
}

// -----

func.func @slice_negative_past_start(%x: tensor<10xf32>) {
  // expected-error @+1 {{dimension 0 reads positions 2 to -1, outside 0..9}}
  %0 = trueno.slice %x offsets = [2] steps = [-1] : tensor<10xf32> -> tensor<4xf32>
  return
}

// -----

func.func @slice_start_past_end(%x: tensor<10xf32>) {
  // expected-error @+1 {{dimension 0 reads positions 10 to 9, outside 0..9}}
  %0 = trueno.slice %x offsets = [10] steps = [-1] : tensor<10xf32> -> tensor<2xf32>
  return
}

// -----

func.func @slice_zero_step(%x: tensor<10xf32>) {
  // expected-error @+1 {{step 0 is zero}}
  %0 = trueno.slice %x offsets = [0] steps = [0] : tensor<10xf32> -> tensor<4xf32>
  return
}

// -----

// Not an error: an empty window reads nothing, so its offset may be past
// the end (x[20:] of 10 elements, as in PyTorch). Its step must still not
// be zero.
func.func @slice_empty_window(%x: tensor<10xf32>) {
  %0 = trueno.slice %x offsets = [20] steps = [1] : tensor<10xf32> -> tensor<0xf32>
  // expected-error @+1 {{step 0 is zero}}
  %1 = trueno.slice %x offsets = [20] steps = [0] : tensor<10xf32> -> tensor<0xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<10xf32>) {
  // expected-error @+1 {{needs 1 offsets and steps and a window of rank 1}}
  %0 = trueno.slice %x offsets = [0, 0] steps = [1, 1] : tensor<10xf32> -> tensor<4xf32>
  return
}

// -----

func.func @slice_window_rank(%x: tensor<10xf32>) {
  // expected-error @+1 {{needs 1 offsets and steps and a window of rank 1}}
  %0 = trueno.slice %x offsets = [0] steps = [1] : tensor<10xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @slice_steps_count(%x: tensor<10xf32>) {
  // expected-error @+1 {{needs 1 offsets and steps and a window of rank 1}}
  %0 = trueno.slice %x offsets = [0] steps = [1, 1] : tensor<10xf32> -> tensor<4xf32>
  return
}

// -----

func.func @insert_slice_outside(%x: tensor<4x4xf32>, %y: tensor<2x2xf32>) {
  // expected-error @+1 {{dimension 1 reads positions 3 to 4, outside 0..3}}
  %0 = trueno.insert_slice %y into %x offsets = [0, 3] steps = [1, 1] : tensor<2x2xf32> into tensor<4x4xf32>
  return
}

// -----

func.func @pad_negative(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{pads dimension 0 by a negative amount; crop with trueno.slice}}
  %0 = trueno.pad %x, %v low = [-1] high = [0] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<2xf32>
  return
}

// -----

func.func @pad_negative_high(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{pads dimension 0 by a negative amount; crop with trueno.slice}}
  %0 = trueno.pad %x, %v low = [0] high = [-1] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<2xf32>
  return
}

// -----

func.func @pad_negative_interior(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{pads dimension 0 by a negative amount; crop with trueno.slice}}
  %0 = trueno.pad %x, %v low = [0] high = [0] interior = [-1] : tensor<3xf32>, tensor<f32> -> tensor<1xf32>
  return
}

// -----

func.func @pad_low_count(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{needs low, high and interior amounts for each of 1 dimensions}}
  %0 = trueno.pad %x, %v low = [0, 0] high = [0] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<3xf32>
  return
}

// -----

func.func @pad_high_count(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{needs low, high and interior amounts for each of 1 dimensions}}
  %0 = trueno.pad %x, %v low = [0] high = [] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<3xf32>
  return
}

// -----

func.func @pad_interior_count(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{needs low, high and interior amounts for each of 1 dimensions}}
  %0 = trueno.pad %x, %v low = [0] high = [0] interior = [0, 1] : tensor<3xf32>, tensor<f32> -> tensor<3xf32>
  return
}

// -----

func.func @pad_result_rank(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{needs low, high and interior amounts for each of 1 dimensions}}
  %0 = trueno.pad %x, %v low = [0] high = [0] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<3x1xf32>
  return
}

// -----

func.func @pad_wrong_size(%x: tensor<3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{result dimension 0 has size 7, expected 8}}
  %0 = trueno.pad %x, %v low = [1] high = [2] interior = [1] : tensor<3xf32>, tensor<f32> -> tensor<7xf32>
  return
}

// -----

func.func @pad_value_rank(%x: tensor<3xf32>, %v: tensor<1xf32>) {
  // expected-error @+1 {{needs a rank-0 padding value}}
  %0 = trueno.pad %x, %v low = [1] high = [0] interior = [0] : tensor<3xf32>, tensor<1xf32> -> tensor<4xf32>
  return
}

// -----

func.func @concat_sizes(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{input 1 has size 4 in dimension 1, the result 3}}
  %0 = trueno.concat %a, %b dim = 0 : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_total(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{inputs add up to 4 along dimension 0, the result has 5}}
  %0 = trueno.concat %a, %b dim = 0 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<5x3xf32>
  return
}

// -----

func.func @concat_element_type(%a: tensor<2xf32>, %b: tensor<2xf64>) {
  // expected-error @+1 {{input 1 has type 'tensor<2xf64>', not a 1-d tensor of 'f32'}}
  %0 = trueno.concat %a, %b dim = 0 : tensor<2xf32>, tensor<2xf64> -> tensor<4xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2xf32>, %b: tensor<2x1xf32>) {
  // expected-error @+1 {{input 1 has type 'tensor<2x1xf32>', not a 1-d tensor of 'f32'}}
  %0 = trueno.concat %a, %b dim = 0 : tensor<2xf32>, tensor<2x1xf32> -> tensor<4xf32>
  return
}

// -----

func.func @concat_negative_dim(%a: tensor<2xf32>) {
  // expected-error @+1 {{joins along dimension -1, out of range for rank 1}}
  %0 = trueno.concat %a, %a dim = -1 : tensor<2xf32>, tensor<2xf32> -> tensor<4xf32>
  return
}

// -----

func.func @concat_dim_past_rank(%a: tensor<2xf32>) {
  // expected-error @+1 {{joins along dimension 1, out of range for rank 1}}
  %0 = trueno.concat %a, %a dim = 1 : tensor<2xf32>, tensor<2xf32> -> tensor<4xf32>
  return
}

// -----

func.func @concat_nothing() {
  // expected-error @+1 {{needs at least one input}}
  %0 = "trueno.concat"() {dim = 0 : i64} : () -> tensor<0xf32>
  return
}

// -----

func.func @scatter_add_larger_source(%x: tensor<3x2xf32>, %i: tensor<4x3xi64>, %y: tensor<4x3xf32>) {
  // expected-error @+1 {{source dimension 1 has size 3, more than the input's 2}}
  %0 = trueno.scatter_add %x, %i, %y dim = 0 : tensor<3x2xf32>, tensor<4x3xi64>, tensor<4x3xf32>
  return
}

// -----

func.func @scatter_add_dim(%x: tensor<3xf32>, %i: tensor<4xi64>, %y: tensor<4xf32>) {
  // expected-error @+1 {{scatters along dimension 1, out of range for rank 1}}
  %0 = trueno.scatter_add %x, %i, %y dim = 1 : tensor<3xf32>, tensor<4xi64>, tensor<4xf32>
  return
}

// -----

func.func @scatter_negative_dim(%x: tensor<3xf32>, %i: tensor<4xi64>, %y: tensor<4xf32>) {
  // expected-error @+1 {{scatters along dimension -1, out of range for rank 1}}
  %0 = trueno.scatter %x, %i, %y dim = -1 : tensor<3xf32>, tensor<4xi64>, tensor<4xf32>
  return
}

// -----

// Scattering nothing into an empty dimension is fine; scattering something
// is not.
func.func @scatter_into_empty(%x: tensor<0x2xf32>, %i: tensor<1x2xi64>, %y: tensor<1x2xf32>, %none: tensor<0x2xi64>, %nothing: tensor<0x2xf32>) {
  %n = trueno.scatter %x, %none, %nothing dim = 0 : tensor<0x2xf32>, tensor<0x2xi64>, tensor<0x2xf32>
  // expected-error @+1 {{scatters into an empty dimension 0}}
  %0 = trueno.scatter_add %x, %i, %y dim = 0 : tensor<0x2xf32>, tensor<1x2xi64>, tensor<1x2xf32>
  return
}

// -----

func.func @scatter_rank(%x: tensor<3x2xf32>, %i: tensor<4xi64>, %y: tensor<4xf32>) {
  // expected-error @+1 {{needs an index and a source of the input's rank 2}}
  %0 = trueno.scatter %x, %i, %y dim = 0 : tensor<3x2xf32>, tensor<4xi64>, tensor<4xf32>
  return
}

// -----

func.func @stored_type_mismatch(%x: tensor<4xf32>, %saved: tensor<4xf64>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "trueno.stored"(%x, %saved) : (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return
}

// -----

func.func @random_dynamic(%k: tensor<i32>) {
  // expected-error @+1 {{needs a static shape, got 'tensor<?xf32>'}}
  %0 = trueno.random_uniform %k, %k, %k, %k : tensor<?xf32>
  return
}

// -----

func.func @random_integer(%k: tensor<i32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of}}
  %0 = trueno.random_uniform %k, %k, %k, %k : tensor<4xi32>
  return
}

// -----

func.func @random_key(%k: tensor<i32>, %wide: tensor<i64>) {
  // expected-error @+1 {{operand #0 must be 0D tensor of 32-bit signless integer values}}
  %0 = "trueno.random_uniform"(%wide, %k, %k, %k) : (tensor<i64>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<4xf32>
  return
}
