# cmake -DIN=FILE -DOUT=FILE.c -DNAME=symbol -DHEADER=header.h -P embed.cmake
# Writes FILE's bytes as a C array `const char NAME[]` (NUL-terminated) and
# `const size_t NAME_len`: how the dashboard page gets into the binary with
# nothing but CMake.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "/* generated from ${IN} by cmake/embed.cmake: do not edit */\n"
  "#include \"${HEADER}\"\n\nconst char ${NAME}[] = {\n${body}0x00};\n"
  "const size_t ${NAME}_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
