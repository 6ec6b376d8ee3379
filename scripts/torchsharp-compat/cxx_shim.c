/* GCC 13's std::ios_base_library_init(); GCC 12's libstdc++ initialises iostreams itself. */
void _ZSt21ios_base_library_initv(void) {}
