/* x86_64 system call numbers for every name in table/syscalls.def, taken
 * from the kernel headers (<sys/syscall.h>, asm/unistd_64.h) when they define
 * the name. Included by test_syscall_table.c, which defines KNR(name).
 *
 * Calls newer than Debian 12's headers (linux-libc-dev 6.1 stops at 450) are
 * also listed in upstream_nrs (test_syscall_table.c) with the numbers of
 * upstream arch/x86/entry/syscalls/syscall_64.tbl, so they are checked
 * whichever headers the build uses. */
#ifdef __NR_read
KNR(read)
#endif
#ifdef __NR_write
KNR(write)
#endif
#ifdef __NR_open
KNR(open)
#endif
#ifdef __NR_close
KNR(close)
#endif
#ifdef __NR_stat
KNR(stat)
#endif
#ifdef __NR_fstat
KNR(fstat)
#endif
#ifdef __NR_lstat
KNR(lstat)
#endif
#ifdef __NR_poll
KNR(poll)
#endif
#ifdef __NR_lseek
KNR(lseek)
#endif
#ifdef __NR_mmap
KNR(mmap)
#endif
#ifdef __NR_mprotect
KNR(mprotect)
#endif
#ifdef __NR_munmap
KNR(munmap)
#endif
#ifdef __NR_brk
KNR(brk)
#endif
#ifdef __NR_rt_sigaction
KNR(rt_sigaction)
#endif
#ifdef __NR_rt_sigprocmask
KNR(rt_sigprocmask)
#endif
#ifdef __NR_rt_sigreturn
KNR(rt_sigreturn)
#endif
#ifdef __NR_ioctl
KNR(ioctl)
#endif
#ifdef __NR_pread64
KNR(pread64)
#endif
#ifdef __NR_pwrite64
KNR(pwrite64)
#endif
#ifdef __NR_readv
KNR(readv)
#endif
#ifdef __NR_writev
KNR(writev)
#endif
#ifdef __NR_access
KNR(access)
#endif
#ifdef __NR_pipe
KNR(pipe)
#endif
#ifdef __NR_select
KNR(select)
#endif
#ifdef __NR_sched_yield
KNR(sched_yield)
#endif
#ifdef __NR_mremap
KNR(mremap)
#endif
#ifdef __NR_msync
KNR(msync)
#endif
#ifdef __NR_mincore
KNR(mincore)
#endif
#ifdef __NR_madvise
KNR(madvise)
#endif
#ifdef __NR_shmget
KNR(shmget)
#endif
#ifdef __NR_shmat
KNR(shmat)
#endif
#ifdef __NR_shmctl
KNR(shmctl)
#endif
#ifdef __NR_dup
KNR(dup)
#endif
#ifdef __NR_dup2
KNR(dup2)
#endif
#ifdef __NR_pause
KNR(pause)
#endif
#ifdef __NR_nanosleep
KNR(nanosleep)
#endif
#ifdef __NR_getitimer
KNR(getitimer)
#endif
#ifdef __NR_alarm
KNR(alarm)
#endif
#ifdef __NR_setitimer
KNR(setitimer)
#endif
#ifdef __NR_getpid
KNR(getpid)
#endif
#ifdef __NR_sendfile
KNR(sendfile)
#endif
#ifdef __NR_socket
KNR(socket)
#endif
#ifdef __NR_connect
KNR(connect)
#endif
#ifdef __NR_accept
KNR(accept)
#endif
#ifdef __NR_sendto
KNR(sendto)
#endif
#ifdef __NR_recvfrom
KNR(recvfrom)
#endif
#ifdef __NR_sendmsg
KNR(sendmsg)
#endif
#ifdef __NR_recvmsg
KNR(recvmsg)
#endif
#ifdef __NR_shutdown
KNR(shutdown)
#endif
#ifdef __NR_bind
KNR(bind)
#endif
#ifdef __NR_listen
KNR(listen)
#endif
#ifdef __NR_getsockname
KNR(getsockname)
#endif
#ifdef __NR_getpeername
KNR(getpeername)
#endif
#ifdef __NR_socketpair
KNR(socketpair)
#endif
#ifdef __NR_setsockopt
KNR(setsockopt)
#endif
#ifdef __NR_getsockopt
KNR(getsockopt)
#endif
#ifdef __NR_clone
KNR(clone)
#endif
#ifdef __NR_fork
KNR(fork)
#endif
#ifdef __NR_vfork
KNR(vfork)
#endif
#ifdef __NR_execve
KNR(execve)
#endif
#ifdef __NR_exit
KNR(exit)
#endif
#ifdef __NR_wait4
KNR(wait4)
#endif
#ifdef __NR_kill
KNR(kill)
#endif
#ifdef __NR_uname
KNR(uname)
#endif
#ifdef __NR_semget
KNR(semget)
#endif
#ifdef __NR_semop
KNR(semop)
#endif
#ifdef __NR_semctl
KNR(semctl)
#endif
#ifdef __NR_shmdt
KNR(shmdt)
#endif
#ifdef __NR_msgget
KNR(msgget)
#endif
#ifdef __NR_msgsnd
KNR(msgsnd)
#endif
#ifdef __NR_msgrcv
KNR(msgrcv)
#endif
#ifdef __NR_msgctl
KNR(msgctl)
#endif
#ifdef __NR_fcntl
KNR(fcntl)
#endif
#ifdef __NR_flock
KNR(flock)
#endif
#ifdef __NR_fsync
KNR(fsync)
#endif
#ifdef __NR_fdatasync
KNR(fdatasync)
#endif
#ifdef __NR_truncate
KNR(truncate)
#endif
#ifdef __NR_ftruncate
KNR(ftruncate)
#endif
#ifdef __NR_getdents
KNR(getdents)
#endif
#ifdef __NR_getcwd
KNR(getcwd)
#endif
#ifdef __NR_chdir
KNR(chdir)
#endif
#ifdef __NR_fchdir
KNR(fchdir)
#endif
#ifdef __NR_rename
KNR(rename)
#endif
#ifdef __NR_mkdir
KNR(mkdir)
#endif
#ifdef __NR_rmdir
KNR(rmdir)
#endif
#ifdef __NR_creat
KNR(creat)
#endif
#ifdef __NR_link
KNR(link)
#endif
#ifdef __NR_unlink
KNR(unlink)
#endif
#ifdef __NR_symlink
KNR(symlink)
#endif
#ifdef __NR_readlink
KNR(readlink)
#endif
#ifdef __NR_chmod
KNR(chmod)
#endif
#ifdef __NR_fchmod
KNR(fchmod)
#endif
#ifdef __NR_chown
KNR(chown)
#endif
#ifdef __NR_fchown
KNR(fchown)
#endif
#ifdef __NR_lchown
KNR(lchown)
#endif
#ifdef __NR_umask
KNR(umask)
#endif
#ifdef __NR_gettimeofday
KNR(gettimeofday)
#endif
#ifdef __NR_getrlimit
KNR(getrlimit)
#endif
#ifdef __NR_getrusage
KNR(getrusage)
#endif
#ifdef __NR_sysinfo
KNR(sysinfo)
#endif
#ifdef __NR_times
KNR(times)
#endif
#ifdef __NR_ptrace
KNR(ptrace)
#endif
#ifdef __NR_getuid
KNR(getuid)
#endif
#ifdef __NR_syslog
KNR(syslog)
#endif
#ifdef __NR_getgid
KNR(getgid)
#endif
#ifdef __NR_setuid
KNR(setuid)
#endif
#ifdef __NR_setgid
KNR(setgid)
#endif
#ifdef __NR_geteuid
KNR(geteuid)
#endif
#ifdef __NR_getegid
KNR(getegid)
#endif
#ifdef __NR_setpgid
KNR(setpgid)
#endif
#ifdef __NR_getppid
KNR(getppid)
#endif
#ifdef __NR_getpgrp
KNR(getpgrp)
#endif
#ifdef __NR_setsid
KNR(setsid)
#endif
#ifdef __NR_setreuid
KNR(setreuid)
#endif
#ifdef __NR_setregid
KNR(setregid)
#endif
#ifdef __NR_getgroups
KNR(getgroups)
#endif
#ifdef __NR_setgroups
KNR(setgroups)
#endif
#ifdef __NR_setresuid
KNR(setresuid)
#endif
#ifdef __NR_getresuid
KNR(getresuid)
#endif
#ifdef __NR_setresgid
KNR(setresgid)
#endif
#ifdef __NR_getresgid
KNR(getresgid)
#endif
#ifdef __NR_getpgid
KNR(getpgid)
#endif
#ifdef __NR_setfsuid
KNR(setfsuid)
#endif
#ifdef __NR_setfsgid
KNR(setfsgid)
#endif
#ifdef __NR_getsid
KNR(getsid)
#endif
#ifdef __NR_capget
KNR(capget)
#endif
#ifdef __NR_capset
KNR(capset)
#endif
#ifdef __NR_rt_sigpending
KNR(rt_sigpending)
#endif
#ifdef __NR_rt_sigtimedwait
KNR(rt_sigtimedwait)
#endif
#ifdef __NR_rt_sigqueueinfo
KNR(rt_sigqueueinfo)
#endif
#ifdef __NR_rt_sigsuspend
KNR(rt_sigsuspend)
#endif
#ifdef __NR_sigaltstack
KNR(sigaltstack)
#endif
#ifdef __NR_utime
KNR(utime)
#endif
#ifdef __NR_mknod
KNR(mknod)
#endif
#ifdef __NR_uselib
KNR(uselib)
#endif
#ifdef __NR_personality
KNR(personality)
#endif
#ifdef __NR_ustat
KNR(ustat)
#endif
#ifdef __NR_statfs
KNR(statfs)
#endif
#ifdef __NR_fstatfs
KNR(fstatfs)
#endif
#ifdef __NR_sysfs
KNR(sysfs)
#endif
#ifdef __NR_getpriority
KNR(getpriority)
#endif
#ifdef __NR_setpriority
KNR(setpriority)
#endif
#ifdef __NR_sched_setparam
KNR(sched_setparam)
#endif
#ifdef __NR_sched_getparam
KNR(sched_getparam)
#endif
#ifdef __NR_sched_setscheduler
KNR(sched_setscheduler)
#endif
#ifdef __NR_sched_getscheduler
KNR(sched_getscheduler)
#endif
#ifdef __NR_sched_get_priority_max
KNR(sched_get_priority_max)
#endif
#ifdef __NR_sched_get_priority_min
KNR(sched_get_priority_min)
#endif
#ifdef __NR_sched_rr_get_interval
KNR(sched_rr_get_interval)
#endif
#ifdef __NR_mlock
KNR(mlock)
#endif
#ifdef __NR_munlock
KNR(munlock)
#endif
#ifdef __NR_mlockall
KNR(mlockall)
#endif
#ifdef __NR_munlockall
KNR(munlockall)
#endif
#ifdef __NR_vhangup
KNR(vhangup)
#endif
#ifdef __NR_modify_ldt
KNR(modify_ldt)
#endif
#ifdef __NR_pivot_root
KNR(pivot_root)
#endif
#ifdef __NR__sysctl
KNR(_sysctl)
#endif
#ifdef __NR_prctl
KNR(prctl)
#endif
#ifdef __NR_arch_prctl
KNR(arch_prctl)
#endif
#ifdef __NR_adjtimex
KNR(adjtimex)
#endif
#ifdef __NR_setrlimit
KNR(setrlimit)
#endif
#ifdef __NR_chroot
KNR(chroot)
#endif
#ifdef __NR_sync
KNR(sync)
#endif
#ifdef __NR_acct
KNR(acct)
#endif
#ifdef __NR_settimeofday
KNR(settimeofday)
#endif
#ifdef __NR_mount
KNR(mount)
#endif
#ifdef __NR_umount2
KNR(umount2)
#endif
#ifdef __NR_swapon
KNR(swapon)
#endif
#ifdef __NR_swapoff
KNR(swapoff)
#endif
#ifdef __NR_reboot
KNR(reboot)
#endif
#ifdef __NR_sethostname
KNR(sethostname)
#endif
#ifdef __NR_setdomainname
KNR(setdomainname)
#endif
#ifdef __NR_iopl
KNR(iopl)
#endif
#ifdef __NR_ioperm
KNR(ioperm)
#endif
#ifdef __NR_create_module
KNR(create_module)
#endif
#ifdef __NR_init_module
KNR(init_module)
#endif
#ifdef __NR_delete_module
KNR(delete_module)
#endif
#ifdef __NR_get_kernel_syms
KNR(get_kernel_syms)
#endif
#ifdef __NR_query_module
KNR(query_module)
#endif
#ifdef __NR_quotactl
KNR(quotactl)
#endif
#ifdef __NR_nfsservctl
KNR(nfsservctl)
#endif
#ifdef __NR_getpmsg
KNR(getpmsg)
#endif
#ifdef __NR_putpmsg
KNR(putpmsg)
#endif
#ifdef __NR_afs_syscall
KNR(afs_syscall)
#endif
#ifdef __NR_tuxcall
KNR(tuxcall)
#endif
#ifdef __NR_security
KNR(security)
#endif
#ifdef __NR_gettid
KNR(gettid)
#endif
#ifdef __NR_readahead
KNR(readahead)
#endif
#ifdef __NR_setxattr
KNR(setxattr)
#endif
#ifdef __NR_lsetxattr
KNR(lsetxattr)
#endif
#ifdef __NR_fsetxattr
KNR(fsetxattr)
#endif
#ifdef __NR_getxattr
KNR(getxattr)
#endif
#ifdef __NR_lgetxattr
KNR(lgetxattr)
#endif
#ifdef __NR_fgetxattr
KNR(fgetxattr)
#endif
#ifdef __NR_listxattr
KNR(listxattr)
#endif
#ifdef __NR_llistxattr
KNR(llistxattr)
#endif
#ifdef __NR_flistxattr
KNR(flistxattr)
#endif
#ifdef __NR_removexattr
KNR(removexattr)
#endif
#ifdef __NR_lremovexattr
KNR(lremovexattr)
#endif
#ifdef __NR_fremovexattr
KNR(fremovexattr)
#endif
#ifdef __NR_tkill
KNR(tkill)
#endif
#ifdef __NR_time
KNR(time)
#endif
#ifdef __NR_futex
KNR(futex)
#endif
#ifdef __NR_sched_setaffinity
KNR(sched_setaffinity)
#endif
#ifdef __NR_sched_getaffinity
KNR(sched_getaffinity)
#endif
#ifdef __NR_set_thread_area
KNR(set_thread_area)
#endif
#ifdef __NR_io_setup
KNR(io_setup)
#endif
#ifdef __NR_io_destroy
KNR(io_destroy)
#endif
#ifdef __NR_io_getevents
KNR(io_getevents)
#endif
#ifdef __NR_io_submit
KNR(io_submit)
#endif
#ifdef __NR_io_cancel
KNR(io_cancel)
#endif
#ifdef __NR_get_thread_area
KNR(get_thread_area)
#endif
#ifdef __NR_lookup_dcookie
KNR(lookup_dcookie)
#endif
#ifdef __NR_epoll_create
KNR(epoll_create)
#endif
#ifdef __NR_epoll_ctl_old
KNR(epoll_ctl_old)
#endif
#ifdef __NR_epoll_wait_old
KNR(epoll_wait_old)
#endif
#ifdef __NR_remap_file_pages
KNR(remap_file_pages)
#endif
#ifdef __NR_getdents64
KNR(getdents64)
#endif
#ifdef __NR_set_tid_address
KNR(set_tid_address)
#endif
#ifdef __NR_restart_syscall
KNR(restart_syscall)
#endif
#ifdef __NR_semtimedop
KNR(semtimedop)
#endif
#ifdef __NR_fadvise64
KNR(fadvise64)
#endif
#ifdef __NR_timer_create
KNR(timer_create)
#endif
#ifdef __NR_timer_settime
KNR(timer_settime)
#endif
#ifdef __NR_timer_gettime
KNR(timer_gettime)
#endif
#ifdef __NR_timer_getoverrun
KNR(timer_getoverrun)
#endif
#ifdef __NR_timer_delete
KNR(timer_delete)
#endif
#ifdef __NR_clock_settime
KNR(clock_settime)
#endif
#ifdef __NR_clock_gettime
KNR(clock_gettime)
#endif
#ifdef __NR_clock_getres
KNR(clock_getres)
#endif
#ifdef __NR_clock_nanosleep
KNR(clock_nanosleep)
#endif
#ifdef __NR_exit_group
KNR(exit_group)
#endif
#ifdef __NR_epoll_wait
KNR(epoll_wait)
#endif
#ifdef __NR_epoll_ctl
KNR(epoll_ctl)
#endif
#ifdef __NR_tgkill
KNR(tgkill)
#endif
#ifdef __NR_utimes
KNR(utimes)
#endif
#ifdef __NR_vserver
KNR(vserver)
#endif
#ifdef __NR_mbind
KNR(mbind)
#endif
#ifdef __NR_set_mempolicy
KNR(set_mempolicy)
#endif
#ifdef __NR_get_mempolicy
KNR(get_mempolicy)
#endif
#ifdef __NR_mq_open
KNR(mq_open)
#endif
#ifdef __NR_mq_unlink
KNR(mq_unlink)
#endif
#ifdef __NR_mq_timedsend
KNR(mq_timedsend)
#endif
#ifdef __NR_mq_timedreceive
KNR(mq_timedreceive)
#endif
#ifdef __NR_mq_notify
KNR(mq_notify)
#endif
#ifdef __NR_mq_getsetattr
KNR(mq_getsetattr)
#endif
#ifdef __NR_kexec_load
KNR(kexec_load)
#endif
#ifdef __NR_waitid
KNR(waitid)
#endif
#ifdef __NR_add_key
KNR(add_key)
#endif
#ifdef __NR_request_key
KNR(request_key)
#endif
#ifdef __NR_keyctl
KNR(keyctl)
#endif
#ifdef __NR_ioprio_set
KNR(ioprio_set)
#endif
#ifdef __NR_ioprio_get
KNR(ioprio_get)
#endif
#ifdef __NR_inotify_init
KNR(inotify_init)
#endif
#ifdef __NR_inotify_add_watch
KNR(inotify_add_watch)
#endif
#ifdef __NR_inotify_rm_watch
KNR(inotify_rm_watch)
#endif
#ifdef __NR_migrate_pages
KNR(migrate_pages)
#endif
#ifdef __NR_openat
KNR(openat)
#endif
#ifdef __NR_mkdirat
KNR(mkdirat)
#endif
#ifdef __NR_mknodat
KNR(mknodat)
#endif
#ifdef __NR_fchownat
KNR(fchownat)
#endif
#ifdef __NR_futimesat
KNR(futimesat)
#endif
#ifdef __NR_newfstatat
KNR(newfstatat)
#endif
#ifdef __NR_unlinkat
KNR(unlinkat)
#endif
#ifdef __NR_renameat
KNR(renameat)
#endif
#ifdef __NR_linkat
KNR(linkat)
#endif
#ifdef __NR_symlinkat
KNR(symlinkat)
#endif
#ifdef __NR_readlinkat
KNR(readlinkat)
#endif
#ifdef __NR_fchmodat
KNR(fchmodat)
#endif
#ifdef __NR_faccessat
KNR(faccessat)
#endif
#ifdef __NR_pselect6
KNR(pselect6)
#endif
#ifdef __NR_ppoll
KNR(ppoll)
#endif
#ifdef __NR_unshare
KNR(unshare)
#endif
#ifdef __NR_set_robust_list
KNR(set_robust_list)
#endif
#ifdef __NR_get_robust_list
KNR(get_robust_list)
#endif
#ifdef __NR_splice
KNR(splice)
#endif
#ifdef __NR_tee
KNR(tee)
#endif
#ifdef __NR_sync_file_range
KNR(sync_file_range)
#endif
#ifdef __NR_vmsplice
KNR(vmsplice)
#endif
#ifdef __NR_move_pages
KNR(move_pages)
#endif
#ifdef __NR_utimensat
KNR(utimensat)
#endif
#ifdef __NR_epoll_pwait
KNR(epoll_pwait)
#endif
#ifdef __NR_signalfd
KNR(signalfd)
#endif
#ifdef __NR_timerfd_create
KNR(timerfd_create)
#endif
#ifdef __NR_eventfd
KNR(eventfd)
#endif
#ifdef __NR_fallocate
KNR(fallocate)
#endif
#ifdef __NR_timerfd_settime
KNR(timerfd_settime)
#endif
#ifdef __NR_timerfd_gettime
KNR(timerfd_gettime)
#endif
#ifdef __NR_accept4
KNR(accept4)
#endif
#ifdef __NR_signalfd4
KNR(signalfd4)
#endif
#ifdef __NR_eventfd2
KNR(eventfd2)
#endif
#ifdef __NR_epoll_create1
KNR(epoll_create1)
#endif
#ifdef __NR_dup3
KNR(dup3)
#endif
#ifdef __NR_pipe2
KNR(pipe2)
#endif
#ifdef __NR_inotify_init1
KNR(inotify_init1)
#endif
#ifdef __NR_preadv
KNR(preadv)
#endif
#ifdef __NR_pwritev
KNR(pwritev)
#endif
#ifdef __NR_rt_tgsigqueueinfo
KNR(rt_tgsigqueueinfo)
#endif
#ifdef __NR_perf_event_open
KNR(perf_event_open)
#endif
#ifdef __NR_recvmmsg
KNR(recvmmsg)
#endif
#ifdef __NR_fanotify_init
KNR(fanotify_init)
#endif
#ifdef __NR_fanotify_mark
KNR(fanotify_mark)
#endif
#ifdef __NR_prlimit64
KNR(prlimit64)
#endif
#ifdef __NR_name_to_handle_at
KNR(name_to_handle_at)
#endif
#ifdef __NR_open_by_handle_at
KNR(open_by_handle_at)
#endif
#ifdef __NR_clock_adjtime
KNR(clock_adjtime)
#endif
#ifdef __NR_syncfs
KNR(syncfs)
#endif
#ifdef __NR_sendmmsg
KNR(sendmmsg)
#endif
#ifdef __NR_setns
KNR(setns)
#endif
#ifdef __NR_getcpu
KNR(getcpu)
#endif
#ifdef __NR_process_vm_readv
KNR(process_vm_readv)
#endif
#ifdef __NR_process_vm_writev
KNR(process_vm_writev)
#endif
#ifdef __NR_kcmp
KNR(kcmp)
#endif
#ifdef __NR_finit_module
KNR(finit_module)
#endif
#ifdef __NR_sched_setattr
KNR(sched_setattr)
#endif
#ifdef __NR_sched_getattr
KNR(sched_getattr)
#endif
#ifdef __NR_renameat2
KNR(renameat2)
#endif
#ifdef __NR_seccomp
KNR(seccomp)
#endif
#ifdef __NR_getrandom
KNR(getrandom)
#endif
#ifdef __NR_memfd_create
KNR(memfd_create)
#endif
#ifdef __NR_kexec_file_load
KNR(kexec_file_load)
#endif
#ifdef __NR_bpf
KNR(bpf)
#endif
#ifdef __NR_execveat
KNR(execveat)
#endif
#ifdef __NR_userfaultfd
KNR(userfaultfd)
#endif
#ifdef __NR_membarrier
KNR(membarrier)
#endif
#ifdef __NR_mlock2
KNR(mlock2)
#endif
#ifdef __NR_copy_file_range
KNR(copy_file_range)
#endif
#ifdef __NR_preadv2
KNR(preadv2)
#endif
#ifdef __NR_pwritev2
KNR(pwritev2)
#endif
#ifdef __NR_pkey_mprotect
KNR(pkey_mprotect)
#endif
#ifdef __NR_pkey_alloc
KNR(pkey_alloc)
#endif
#ifdef __NR_pkey_free
KNR(pkey_free)
#endif
#ifdef __NR_statx
KNR(statx)
#endif
#ifdef __NR_io_pgetevents
KNR(io_pgetevents)
#endif
#ifdef __NR_rseq
KNR(rseq)
#endif
#ifdef __NR_pidfd_send_signal
KNR(pidfd_send_signal)
#endif
#ifdef __NR_io_uring_setup
KNR(io_uring_setup)
#endif
#ifdef __NR_io_uring_enter
KNR(io_uring_enter)
#endif
#ifdef __NR_io_uring_register
KNR(io_uring_register)
#endif
#ifdef __NR_open_tree
KNR(open_tree)
#endif
#ifdef __NR_move_mount
KNR(move_mount)
#endif
#ifdef __NR_fsopen
KNR(fsopen)
#endif
#ifdef __NR_fsconfig
KNR(fsconfig)
#endif
#ifdef __NR_fsmount
KNR(fsmount)
#endif
#ifdef __NR_fspick
KNR(fspick)
#endif
#ifdef __NR_pidfd_open
KNR(pidfd_open)
#endif
#ifdef __NR_clone3
KNR(clone3)
#endif
#ifdef __NR_close_range
KNR(close_range)
#endif
#ifdef __NR_openat2
KNR(openat2)
#endif
#ifdef __NR_pidfd_getfd
KNR(pidfd_getfd)
#endif
#ifdef __NR_faccessat2
KNR(faccessat2)
#endif
#ifdef __NR_process_madvise
KNR(process_madvise)
#endif
#ifdef __NR_epoll_pwait2
KNR(epoll_pwait2)
#endif
#ifdef __NR_mount_setattr
KNR(mount_setattr)
#endif
#ifdef __NR_quotactl_fd
KNR(quotactl_fd)
#endif
#ifdef __NR_landlock_create_ruleset
KNR(landlock_create_ruleset)
#endif
#ifdef __NR_landlock_add_rule
KNR(landlock_add_rule)
#endif
#ifdef __NR_landlock_restrict_self
KNR(landlock_restrict_self)
#endif
#ifdef __NR_memfd_secret
KNR(memfd_secret)
#endif
#ifdef __NR_process_mrelease
KNR(process_mrelease)
#endif
#ifdef __NR_futex_waitv
KNR(futex_waitv)
#endif
#ifdef __NR_set_mempolicy_home_node
KNR(set_mempolicy_home_node)
#endif
#ifdef __NR_cachestat
KNR(cachestat)
#endif
#ifdef __NR_fchmodat2
KNR(fchmodat2)
#endif
#ifdef __NR_map_shadow_stack
KNR(map_shadow_stack)
#endif
#ifdef __NR_futex_wake
KNR(futex_wake)
#endif
#ifdef __NR_futex_wait
KNR(futex_wait)
#endif
#ifdef __NR_futex_requeue
KNR(futex_requeue)
#endif
#ifdef __NR_statmount
KNR(statmount)
#endif
#ifdef __NR_listmount
KNR(listmount)
#endif
#ifdef __NR_lsm_get_self_attr
KNR(lsm_get_self_attr)
#endif
#ifdef __NR_lsm_set_self_attr
KNR(lsm_set_self_attr)
#endif
#ifdef __NR_lsm_list_modules
KNR(lsm_list_modules)
#endif
#ifdef __NR_mseal
KNR(mseal)
#endif
#ifdef __NR_setxattrat
KNR(setxattrat)
#endif
#ifdef __NR_getxattrat
KNR(getxattrat)
#endif
#ifdef __NR_listxattrat
KNR(listxattrat)
#endif
#ifdef __NR_removexattrat
KNR(removexattrat)
#endif
#ifdef __NR_open_tree_attr
KNR(open_tree_attr)
#endif
#ifdef __NR_file_getattr
KNR(file_getattr)
#endif
#ifdef __NR_file_setattr
KNR(file_setattr)
#endif
#ifdef __NR_listns
KNR(listns)
#endif
